"""The `graphdl render SCRIPT.py:FUNCTION` command."""

import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from graphdl.cli import main

ROOT = Path(__file__).resolve().parent.parent
XOR = f"{ROOT / 'examples' / 'xor_mlp.py'}:build_xor_mlp"
SEED004 = f"{ROOT / 'examples' / 'demo.py'}:build_seed004_graph"


@pytest.fixture
def script(tmp_path):
    """A user's script with several kinds of builder functions."""
    path = tmp_path / "model.py"
    path.write_text(textwrap.dedent('''
        import graphdl as gd

        def builds_in_default_graph():          # returns nothing: its graph is drawn
            x = gd.placeholder((None, 3), name="x")
            with gd.name_scope("dense"):
                w = gd.Variable(gd.initializers.zeros((3, 2)), name="w")
                y = gd.relu(x @ w)
            loss = gd.mean(y, name="loss")
            gd.gradients(loss, [w])
            print("building!")                  # must not end up in DOT on stdout

        def returns_tensor():
            x = gd.placeholder((2,), name="x")
            return gd.exp(x) + 1.0

        def builds_nothing():
            pass

        def fails():
            gd.placeholder((2, 3)) @ gd.placeholder((4, 5))
    '''))
    return path


def test_renders_a_script_function_to_svg(tmp_path, capsys):
    out = tmp_path / "xor.svg"
    assert main(["render", XOR, "-o", str(out)]) == 0
    assert out.read_text().lstrip().startswith("<?xml")
    assert 'id="node:gradients/hidden/matmul"' in out.read_text()
    assert "wrote" in capsys.readouterr().err


def test_backward_depth_and_format_options(tmp_path):
    out = tmp_path / "xor.dot"
    assert main(["render", XOR, "-o", str(out), "--backward", "--depth", "1"]) == 0
    dot = out.read_text()
    assert 'id="node:hidden/matmul"' not in dot  # backward: no forward nodes
    assert 'id="scope:gradients/hidden:gradients"' in dot  # depth 1: collapsed
    png = tmp_path / "picture"
    assert main(["render", XOR, "-o", str(png), "--format", "png", "--view", "both"]) == 0
    assert png.read_bytes().startswith(b"\x89PNG")


def test_without_output_prints_dot_and_keeps_prints_off_stdout(script, capsys):
    assert main(["render", f"{script}:builds_in_default_graph"]) == 0
    captured = capsys.readouterr()
    assert captured.out.startswith("digraph")
    assert 'id="node:dense/matmul"' in captured.out
    assert "building!" in captured.err and "building!" not in captured.out


def test_returned_tensor_draws_its_ancestors(script, capsys):
    assert main(["render", f"{script}:returns_tensor", "--no-legend"]) == 0
    out = capsys.readouterr().out
    assert 'id="node:exp"' in out and "legend" not in out


def test_highlight_by_tensor_names(tmp_path, capsys):
    assert main(["render", SEED004, "--highlight", "hidden/W1", "output/yhat"]) == 0
    out = capsys.readouterr().out
    line = next(ln for ln in out.splitlines() if 'id="node:hidden/W1"' in ln)
    assert 'penwidth="2.5"' in line
    assert main(["render", SEED004, "--highlight", "nope", "output/yhat"]) == 2
    assert "--highlight: no node named 'nope'" in capsys.readouterr().err


def test_module_and_function_form(capsys, monkeypatch):
    monkeypatch.syspath_prepend(str(ROOT / "examples"))
    assert main(["render", "xor_mlp:build_xor_mlp", "--view", "forward"]) == 0
    assert "digraph" in capsys.readouterr().out


@pytest.mark.parametrize("target, message", [
    ("no_colon.py", "expected SCRIPT.py:FUNCTION"),
    ("missing_file.py:f", "no such script"),
    ("{script}:nope", "has no function 'nope'"),
    ("{script}:builds_nothing", "returned nothing and built nothing"),
    ("{script}:fails", "matmul"),
    ("no_such_module_xyz:f", "cannot import module"),
])
def test_errors_are_one_line_and_exit_2(script, capsys, target, message):
    assert main(["render", target.format(script=script)]) == 2
    err = capsys.readouterr().err
    assert err.startswith("graphdl render: error:") and message in err


def test_format_other_than_dot_needs_an_output(capsys):
    assert main(["render", XOR, "--format", "svg"]) == 2
    assert "needs -o" in capsys.readouterr().err


def test_python_dash_m_graphdl(tmp_path):
    out = tmp_path / "seed004.svg"
    result = subprocess.run([sys.executable, "-m", "graphdl", "render", SEED004, "-o", str(out)],
                            capture_output=True, text=True, cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert "node:output/yhat" in out.read_text()


def test_module_in_the_current_directory(tmp_path, capsys, monkeypatch):
    (tmp_path / "here_model.py").write_text(
        "import graphdl as gd\n\ndef build():\n    return gd.exp(gd.placeholder((2,), name='x'))\n")
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(sys, "path", [p for p in sys.path if p not in ("", str(tmp_path))])
    assert main(["render", "here_model:build"]) == 0
    assert 'id="node:exp"' in capsys.readouterr().out
