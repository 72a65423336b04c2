"""``gd.compile`` and ``graphdl compile``: the generated source, the pass log and the
kernels picture, without running the program."""

import shutil
import xml.etree.ElementTree as ET

import numpy as np
import pytest

import graphdl as gd
from graphdl.cli import main

SCRIPT = '''
import numpy as np
import graphdl as gd

def step():
    x = gd.placeholder((None, 4), "float32", name="x")
    w = gd.Variable(np.ones((4, 3), "float32"), name="w")
    loss = gd.mean(gd.relu(x @ w + 1.0) * 2.0, name="loss")
    (g,) = gd.gradients(loss, [w])
    return [loss, w.assign_sub(0.1 * g)]
'''


def test_gd_compile_gives_source_log_and_kernel_groups():
    x = gd.placeholder((None, 3), "float64", name="x")
    y = gd.sum(gd.exp(x) * 2.0 + 1.0, axis=1, name="y")
    compiled = gd.compile(y)
    assert "def program(" in compiled.source and "@njit(cache=True" in compiled.source
    assert "--- fuse ---" in compiled.log and "<Kernel reduction" in compiled.log
    groups = compiled.kernel_groups()
    assert len(groups) == 1 and len(next(iter(groups.values()))) >= 3
    assert "cluster" in compiled.render(format="dot")
    with pytest.raises(gd.GraphError, match="does not generate code"):
        gd.compile(y, backend="numpy")


@pytest.mark.skipif(shutil.which("dot") is None, reason="Graphviz dot not installed")
def test_graphdl_compile_writes_program_log_and_picture(tmp_path, capsys):
    script = tmp_path / "model.py"
    script.write_text(SCRIPT)
    out = tmp_path / "out"
    assert main(["compile", f"{script}:step", "--backend", "numba", "-o", str(out)]) == 0
    source = (out / "program.py").read_text()
    assert "gemm(" in source and "def program(" in source
    assert "--- buffers ---" in (out / "passes.log").read_text()
    ET.parse(out / "kernels.svg")
    # the written program is the one a Session runs
    namespace = {}
    exec(compile(SCRIPT, "model", "exec"), namespace)  # noqa: S102
    with gd.Graph().as_default():
        loss, _ = namespace["step"]()
        assert gd.compile(loss).source.count("gemm(") >= 1
    assert main(["compile", f"{script}:nothing", "-o", str(out)]) == 2
    assert "has no function" in capsys.readouterr().err
    np.testing.assert_equal(sorted(p.name for p in out.iterdir()),
                            ["kernels.svg", "passes.log", "program.py"])
