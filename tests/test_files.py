"""Files and pictures: safe writes, escaped labels, big and deep graphs (issue #9)."""

import os
import re
import shutil
import stat

import numpy as np
import pytest

import graphdl as gd
from graphdl.fileio import write_atomic

ROOT = os.geteuid() == 0


def test_a_symlink_is_followed_and_its_target_replaced(tmp_path):
    target = tmp_path / "real.svg"
    target.write_bytes(b"old")
    link = tmp_path / "link.svg"
    link.symlink_to(target)
    write_atomic(link, b"new")
    assert link.is_symlink() and target.read_bytes() == b"new"
    assert [p.name for p in tmp_path.iterdir() if p.name.endswith(".tmp")] == []


def test_an_existing_files_mode_is_kept(tmp_path):
    path = tmp_path / "secret.svg"
    path.write_bytes(b"old")
    os.chmod(path, 0o600)
    write_atomic(path, b"new")
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600 and path.read_bytes() == b"new"


def test_a_new_file_gets_the_umask_mode(tmp_path):
    old = os.umask(0o027)
    try:
        write_atomic(tmp_path / "new.svg", b"x")
    finally:
        os.umask(old)
    assert stat.S_IMODE(os.stat(tmp_path / "new.svg").st_mode) == 0o640


def test_hard_links_keep_sharing_the_content(tmp_path):
    a = tmp_path / "a.svg"
    a.write_bytes(b"old")
    b = tmp_path / "b.svg"
    os.link(a, b)
    write_atomic(a, b"new")
    assert b.read_bytes() == b"new" and os.stat(a).st_ino == os.stat(b).st_ino


def test_device_nodes_and_fifos_are_written_through(tmp_path):
    write_atomic("/dev/null", b"picture")
    assert stat.S_ISCHR(os.stat("/dev/null").st_mode)
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    got = []
    import threading
    reader = threading.Thread(target=lambda: got.append(open(fifo, "rb").read()))
    reader.start()
    write_atomic(fifo, b"through the pipe")
    reader.join(5)
    assert got == [b"through the pipe"] and stat.S_ISFIFO(os.stat(fifo).st_mode)


def test_a_directory_is_a_clear_error(tmp_path):
    with pytest.raises(gd.GraphError, match="is a directory"):
        write_atomic(tmp_path, b"x")
    x = gd.placeholder((2,), name="x")
    with pytest.raises(gd.RenderError, match="is a directory"):
        gd.render(x * 2.0, path=tmp_path, format="dot")


@pytest.mark.skipif(ROOT, reason="root can write anywhere")
def test_an_unwritable_directory_is_a_clear_error(tmp_path):
    locked = tmp_path / "locked"
    locked.mkdir()
    os.chmod(locked, 0o500)
    try:
        with pytest.raises(gd.GraphError, match="permission denied"):
            write_atomic(locked / "x.svg", b"x")
    finally:
        os.chmod(locked, 0o700)


def test_a_path_under_a_file_is_a_clear_error(tmp_path):
    (tmp_path / "file").write_bytes(b"")
    with pytest.raises(gd.GraphError, match="cannot write"):
        write_atomic(tmp_path / "file" / "x.svg", b"x")


# -- escaping: user text never becomes markup ------------------------------------------
INJECTIONS = ['<<B>bold</B>>', '<x> ]; evil [label="pwned"', '<<IMG SRC="/etc/passwd"/>>',
              'a"b\\c', "<<TABLE HREF=\"javascript:alert(1)\"><TR><TD>x</TD></TR></TABLE>>"]


@pytest.mark.parametrize("text", INJECTIONS)
def test_titles_and_group_names_are_escaped(text):
    x = gd.placeholder((2,), name="x")
    y = x * 2.0
    source = gd.render(y, title=text, groups={text: [y]})
    assert "IMG" not in re.sub(r'"(?:[^"\\]|\\.)*"', '""', source)  # only inside quotes
    assert "javascript" not in re.sub(r'"(?:[^"\\]|\\.)*"', '""', source)
    assert "pwned" not in re.sub(r'"(?:[^"\\]|\\.)*"', '""', source)
    if shutil.which("dot"):
        svg = gd.to_svg(y, title=text, groups={text: [y]})
        assert "<img" not in svg.lower() and "javascript:" not in svg.replace("&#45;", "-") \
            .split("<title>")[0]


# -- big and deep graphs ------------------------------------------------------------------
def test_a_thousand_nested_scopes_render():
    import contextlib
    with contextlib.ExitStack() as stack:
        for _ in range(1000):
            stack.enter_context(gd.name_scope("s"))
        y = gd.placeholder((2,), name="x") * 2.0
    source = gd.render(y)
    assert source.count("subgraph cluster_") >= 1000


@pytest.mark.skipif(not shutil.which("dot"), reason="needs Graphviz dot")
def test_a_huge_graph_draws_inline_as_a_collapsed_view_that_says_so():
    g = gd.Graph()
    with g.as_default():
        x = gd.placeholder((2,), name="x")
        for i in range(20):
            with gd.name_scope(f"layer{i}"):
                for _ in range(100):
                    x = gd.tanh(x * 2.0)
    svg = g._repr_svg_()
    assert f"collapsed view of {len(g.nodes)} nodes" in svg
    assert svg.count('class="node"') <= gd.viz.INLINE_MAX_BOXES


@pytest.mark.skipif(not shutil.which("dot"), reason="needs Graphviz dot")
def test_a_huge_flat_graph_draws_a_summary():
    g = gd.Graph()
    with g.as_default():
        x = gd.placeholder((2,), name="x")
        for _ in range(2000):
            x = x * 2.0
    svg = g._repr_svg_()
    assert "too big to draw inline" in svg and "mul x2000" in svg


def test_small_graphs_still_draw_everything(monkeypatch):
    calls = []
    monkeypatch.setattr(gd.viz, "to_svg", lambda g, **kw: calls.append(kw) or "<svg/>")
    g = gd.Graph()
    with g.as_default():
        gd.placeholder((2,), name="x") * np.float32(2.0)
    g._repr_svg_()
    assert calls == [{}]
