"""The examples run and assert their own targets (seed models reproduced)."""

import runpy
from pathlib import Path

import pytest

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"


@pytest.mark.parametrize("script", ["seed004_softmax_regression.py", "perceptron.py",
                                    "xor_mlp.py"])
def test_example_runs_and_meets_its_target(script, capsys):
    runpy.run_path(str(EXAMPLES / script), run_name="__main__")
    assert capsys.readouterr().out
