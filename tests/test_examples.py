"""The examples run and assert their own targets (seed models reproduced)."""

import runpy
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"


@pytest.mark.parametrize("script", ["seed004_softmax_regression.py", "seed004_path_of_b1.py",
                                    "perceptron.py", "xor_mlp.py"])
def test_example_runs_and_meets_its_target(script, capsys, monkeypatch):
    monkeypatch.setattr(sys, "argv", [script])
    runpy.run_path(str(EXAMPLES / script), run_name="__main__")
    assert capsys.readouterr().out


def test_demo_trains_and_writes_the_pictures(tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(sys, "argv", ["demo.py"])
    monkeypatch.syspath_prepend(str(EXAMPLES))
    runpy.run_path(str(EXAMPLES / "demo.py"), run_name="__main__")
    out = capsys.readouterr().out
    for name in ("forward.svg", "backward.svg", "seed004_path_b1.svg", "seed004_grad_b1.svg"):
        path = tmp_path / "out" / name
        assert str(Path("out") / name) in out
        ET.parse(path)  # a complete, well-formed SVG
    assert "loss" in out and "XOR(1, 1)" in out
