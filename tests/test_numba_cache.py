"""The on-disk cache of the numba backend: content-addressed, shared by processes,
rebuilt when broken. Each test uses its own temporary cache directory."""

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import graphdl as gd
from graphdl.backends.numba_common import cache

ROOT = Path(__file__).resolve().parent.parent

SCRIPT = """
import numpy as np, graphdl as gd
x = gd.placeholder((None, 3), "float64", name="x")
y = x * {k} + 1.0
sess = gd.Session(backend="numba")
out = sess.run(y, {{x: np.ones((2, 3))}})
prog = next(iter(sess._programs.values()))[1]
print(prog.cache_hit, prog.loaded_from_cache, out.sum())
"""


def _run(tmp_path, k=2.0):
    env = dict(os.environ, GRAPHDL_CACHE_DIR=str(tmp_path), PYTHONPATH=str(ROOT))
    done = subprocess.run([sys.executable, "-c", SCRIPT.format(k=k)], env=env,
                          capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-3000:]
    source_hit, code_hit, total = done.stdout.split()
    return source_hit == "True", code_hit == "True", float(total)


def test_a_second_process_loads_from_the_cache_and_a_changed_graph_misses(tmp_path):
    assert _run(tmp_path) == (False, False, 18.0)
    assert _run(tmp_path) == (True, True, 18.0)
    hit, loaded, total = _run(tmp_path, k=3.0)  # another constant: another program
    assert (hit, loaded, total) == (False, False, 24.0)
    assert len(list(tmp_path.glob("gd_*.py"))) == 2


@pytest.mark.parametrize("damage", ["truncate", "garbage", "numba_index"])
def test_a_broken_entry_is_rebuilt(tmp_path, damage):
    _run(tmp_path)
    (entry,) = tmp_path.glob("gd_*.py")
    if damage == "truncate":
        entry.write_text(entry.read_text()[:200])
    elif damage == "garbage":
        entry.write_bytes(b"\x00\xff not python at all \n" * 10)
    else:
        for index in (tmp_path / "__pycache__").glob("*.nbi"):
            index.write_bytes(b"garbage")
    hit, _, total = _run(tmp_path)
    assert total == 18.0
    assert hit == (damage == "numba_index")  # the source itself was intact there


def test_the_key_covers_structure_not_names(tmp_path, monkeypatch):
    """Two graphs equal but for their names share one entry; dtypes and ranks do not."""
    monkeypatch.setenv("GRAPHDL_CACHE_DIR", str(tmp_path))
    from graphdl.backends.numba_cpu.backend import CompiledProgram  # noqa: PLC0415
    from graphdl.passes import optimize  # noqa: PLC0415
    from graphdl.program import Program  # noqa: PLC0415

    def program(name, dtype="float32", shape=(None, 3)):
        with gd.Graph().as_default():
            x = gd.placeholder(shape, dtype, name=name)
            y = gd.exp(x, name=name + "_exp")
            return CompiledProgram(optimize(Program([y], [x])))

    a, b = program("a"), program("b")
    assert a.path == b.path and b.cache_hit
    assert program("a", "float64").path != a.path
    assert program("a", shape=(None, 3, 1)).path != a.path
    assert program("a", shape=(2, 3)).path != a.path  # static sizes are in the source


def test_cache_dir_default_and_override(monkeypatch, tmp_path):
    monkeypatch.delenv("GRAPHDL_CACHE_DIR", raising=False)
    assert cache.cache_dir() == Path.home() / ".cache" / "graphdl"
    monkeypatch.setenv("GRAPHDL_CACHE_DIR", str(tmp_path))
    assert cache.cache_dir() == tmp_path


def test_entries_are_written_whole(tmp_path, monkeypatch):
    monkeypatch.setenv("GRAPHDL_CACHE_DIR", str(tmp_path))
    entry = cache.store("def program():\n    return 0\n", "salt")
    assert not entry.hit and cache.store("def program():\n    return 0\n", "salt").hit
    assert not list(tmp_path.glob(".tmp-*"))
    assert entry.load().program() == 0
    np.testing.assert_equal(entry.path.read_text().count("def program"), 1)
