"""Every CUDA kernel, library and generated, compiles to real PTX for sm_90.

No GPU needed: ``numba.cuda.compile_ptx`` type-checks and compiles with NVVM
(from the ``numba-cuda[cu13]`` package). The simulator does no type checking,
so this is the test that catches kernels a GPU would reject.
"""

import numpy as np
import pytest

pytest.importorskip("numba.cuda")
from numba import cuda, from_dtype, types  # noqa: E402

if cuda.config.ENABLE_CUDASIM:  # pragma: no cover - the simulator cannot compile PTX
    pytest.skip("compile_ptx needs the real CUDA target", allow_module_level=True)

import graphdl as gd  # noqa: E402
from graphdl.backends.numba_cuda import kernels as K  # noqa: E402
from graphdl.backends.numba_cuda.backend import build_plan  # noqa: E402
from graphdl.backends.numba_cuda.export import (  # noqa: E402
    export,
    generated_kernels,
    kernel_signature,
)
from graphdl.backends.numba_cuda.fused_matmul import MatmulSource  # noqa: E402
from graphdl.backends.numba_cuda.fused_reduce import ReductionSource  # noqa: E402
from graphdl.passes import optimize  # noqa: E402
from graphdl.program import Program  # noqa: E402

CC = (9, 0)
i64 = types.int64


def tup(n):
    return types.UniTuple(i64, n)


def arr(dtype):
    return types.Array(from_dtype(np.dtype(dtype)), 1, "C")


def ptx(kernel, sig):
    fn = getattr(kernel, "py_func", kernel)
    text, _ = cuda.compile_ptx(fn, sig, cc=CC)
    assert ".target sm_90" in text and ".entry" in text
    return text


GEOM = tup(12)
f32, f64 = arr("float32"), arr("float64")

LIBRARY = {
    "copy_strided": (K.copy.copy_strided, (f32, i64, tup(3), f32, i64, tup(3), tup(3), i64)),
    "fill": (K.copy.fill, (f64, types.float64, i64)),
    "copy_flat": (K.copy.copy_flat, (f32, f64, i64)),
    "flag_non_finite_f32": (K.check.flag_non_finite, (arr("int32"), i64, f32, i64)),
    "flag_non_finite_f64": (K.check.flag_non_finite, (arr("int32"), i64, f64, i64)),
    "im2col": (K.conv.im2col, (f32, f32, GEOM, i64)),
    "col2im": (K.conv.col2im, (f32, f32, GEOM, i64)),
    "max_pool": (K.conv.max_pool, (f32, f32, GEOM, i64)),
    "max_pool_gather": (K.conv.max_pool_gather, (f32, f32, f32, GEOM, i64)),
    "max_pool_backprop": (K.conv.max_pool_backprop, (f32, f32, f32, GEOM, i64)),
    "avg_pool": (K.conv.avg_pool, (f64, f64, GEOM, i64)),
    "avg_pool_backprop": (K.conv.avg_pool_backprop, (f32, f32, GEOM, i64)),
    "gather": (K.array.gather, (f32, f32, arr("int64"), tup(4), arr("int64"), i64)),
    "gather_add": (K.array.gather_add, (f64, f64, arr("int32"), tup(4), arr("int64"), i64)),
    "one_hot": (K.labels.one_hot, (f32, arr("int64"), i64, i64)),
    "label_one_hot": (K.labels.label_one_hot,
                      (f32, arr("int64"), i64, i64, arr("int64"), i64)),
}


@pytest.mark.parametrize("name", sorted(LIBRARY))
def test_library_kernel_compiles_to_ptx(name):
    kernel, sig = LIBRARY[name]
    ptx(kernel, sig)


def test_dropout_kernel_compiles_to_ptx():
    ptx(K.random.dropout_mask, (f32, types.uint64, types.float64, i64))


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_typed_kernels_compile_to_ptx(dtype):
    a, s = arr(dtype), from_dtype(np.dtype(dtype))
    red = K.typed("reduction", dtype)
    text = ptx(red.reduce_rows, (a, a, i64, i64, i64, s))
    assert "shfl.sync.down" in text  # the warp steps are there on the GPU
    ptx(red.argreduce_rows, (arr("int64"), a, i64, i64, i64))
    ptx(K.typed("linalg", dtype).matmul,
        (a, a, a, i64, i64, i64, i64, tup(1), tup(1), i64, i64, tup(1), i64, i64))
    ptx(K.typed("nn", dtype).softmax_rows, (a, a, i64, i64, types.boolean))


def _programs():
    """A training step of a small MLP and CNN: most elementwise ops and fusions."""
    g = gd.Graph(seed=0)
    with g.as_default():
        x = gd.placeholder((None, 1, 6, 6), name="x")
        y = gd.placeholder((None,), "int64", name="y")
        w = gd.Variable(np.zeros((2, 1, 3, 3), "float32"), name="w")
        h = gd.max_pool2d(gd.relu(gd.conv2d(x, w, padding="same")), 2)
        h = gd.avg_pool2d(gd.leaky_relu(h, 0.1), 3)
        v = gd.Variable(np.zeros((2, 3), "float32"), name="v")
        logits = gd.flatten(h) @ v
        loss = gd.mean(gd.sparse_softmax_cross_entropy(logits, y))
        soft = gd.cast(gd.sigmoid(logits) > 0.5, "float32")
        loss2 = gd.mean(gd.sigmoid_cross_entropy(logits, soft))
        extra = gd.where(logits > 0, gd.sqrt(gd.abs(logits)) ** 2.0, gd.exp(-logits))
        total = loss + loss2 + gd.sum(gd.softplus(extra) - gd.log(1 + gd.tanh(logits) ** 2))
        grads = gd.gradients(total, [w, v])
        step = gd.group(*[gd.assign_sub(p, 0.1 * gr) for p, gr in zip([w, v], grads)])
        drop = gd.dropout(logits, 0.5)
        return Program([total, step, drop, gd.argmax(logits), gd.cast(logits, "int32")],
                       [x, y])


def test_generated_kernels_compile_to_ptx():
    plan = build_plan(optimize(_programs()))
    kernels = generated_kernels(plan)
    assert len(kernels) > 10
    seen, reductions, matmuls = set(), 0, 0
    for src, kernel in kernels:
        body = src.text.split('"""', 2)[2]  # the same ops on the same types compile once
        dtypes = tuple(str(v.dtype) for v in src.inputs + src.outputs)
        if (body, dtypes) in seen:
            continue
        seen.add((body, dtypes))
        reductions += isinstance(src, ReductionSource)
        matmuls += isinstance(src, MatmulSource)
        ptx(kernel, kernel_signature(src))
    assert reductions >= 2 and matmuls >= 1


def test_export_writes_sources_and_ptx(tmp_path):
    """What ``graphdl compile --backend cuda -o DIR`` writes."""
    g = gd.Graph(seed=0)
    with g.as_default():
        x = gd.placeholder((None, 3), name="x")
        y = gd.sum(gd.exp(x) * 2.0, axis=1)
        program = Program([y], [x])
    written = export(program, tmp_path)
    names = sorted(p.name for p in written)
    assert "program.py" in names and "lowered.txt" in names
    ptx_files = [p for p in written if p.suffix == ".ptx"]
    assert ptx_files and all(".target sm_90" in p.read_text() for p in ptx_files)
    assert "def host(" in (tmp_path / "program.py").read_text()


CLI_SCRIPT = '''
import numpy as np
import graphdl as gd

def step():
    x = gd.placeholder((None, 4), "float32", name="x")
    w = gd.Variable(np.ones((4, 3), "float32"), name="w")
    loss = gd.mean(gd.relu(x @ w + 1.0) * 2.0, name="loss")
    (g,) = gd.gradients(loss, [w])
    return [loss, w.assign_sub(0.1 * g)]
'''


def test_graphdl_compile_backend_cuda_writes_sources_and_ptx(tmp_path, capsys):
    """``graphdl compile --backend cuda`` needs no GPU: the kernels' PTX comes from NVVM."""
    from graphdl.cli import main  # noqa: PLC0415
    script = tmp_path / "model.py"
    script.write_text(CLI_SCRIPT)
    out = tmp_path / "out"
    assert main(["compile", f"{script}:step", "--backend", "cuda", "-o", str(out)]) == 0
    assert "def host(" in (out / "program.py").read_text()
    assert "matmul" in (out / "lowered.txt").read_text()
    ptx_files = sorted(out.glob("*.ptx"))
    assert len(ptx_files) >= 2  # the fused matmul and the loss's reduction at least
    assert all(".entry" in p.read_text() and ".target sm_90" in p.read_text()
               for p in ptx_files)
    assert f"wrote {out / 'program.py'}" in capsys.readouterr().err
