"""The examples run and assert their own targets (seed models reproduced).

Each model example runs here with ``--quick`` (short training, relaxed target) on
every registered backend and must write its two pictures; ``python
examples/NAME.py`` runs the full settings with the real target.
"""

import runpy
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"

#: examples with the shared options (--backend, --quick, --out)
MODEL_EXAMPLES = ["seed004_softmax_regression.py", "perceptron.py", "xor_mlp.py",
                  "softmax_regression_digits.py", "keras_mlp_digits.py",
                  "keras_cnn_digits.py", "lenet5_digits.py", "elman_rnn.py",
                  "lstm_long_range.py", "gru_sequence.py"]


def _run(script, argv, monkeypatch):
    monkeypatch.setattr(sys, "argv", [script, *argv])
    monkeypatch.syspath_prepend(str(EXAMPLES))
    runpy.run_path(str(EXAMPLES / script), run_name="__main__")


@pytest.mark.parametrize("script", MODEL_EXAMPLES)
def test_example_quick_on_every_backend(script, backend, tmp_path, capsys, monkeypatch):
    _run(script, ["--quick", "--backend", backend, "--out", str(tmp_path)], monkeypatch)
    assert "pictures:" in capsys.readouterr().out  # it got past its own asserts
    for name in ("forward.svg", "backward.svg"):
        ET.parse(tmp_path / name)  # a complete, well-formed SVG


def test_seed004_path_of_b1(backend, tmp_path, capsys, monkeypatch):
    _run("seed004_path_of_b1.py", [str(tmp_path), "--backend", backend], monkeypatch)
    assert "-0.19" in capsys.readouterr().out.replace("−", "-")
    for name in ("seed004_path_b1.svg", "seed004_grad_b1.svg"):
        ET.parse(tmp_path / name)


def test_demo_trains_and_writes_the_pictures(tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    _run("demo.py", ["--quick"], monkeypatch)
    out = capsys.readouterr().out
    for name in ("forward.svg", "backward.svg", "seed004_path_b1.svg", "seed004_grad_b1.svg"):
        path = tmp_path / "out" / name
        assert str(Path("out") / name) in out
        ET.parse(path)  # a complete, well-formed SVG
    assert (tmp_path / "out" / "curves.png").read_bytes()[:4] == b"\x89PNG"
    assert "epoch 2/2" in out and "time per epoch" in out and "test accuracy" in out
