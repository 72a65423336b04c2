"""Write a compiled program's CUDA sources and PTX to a directory (what
``graphdl compile SCRIPT.py:FUNCTION --backend cuda -o DIR`` writes).

``export(program, out_dir, cc=(9, 0))`` writes:

* ``program.py``: the generated module (fused kernels and the host function);
* ``<kernel>.ptx`` for every generated kernel, compiled by NVVM for ``cc`` with the
  argument types the launchers pass (known from the static dtypes and ranks);
* ``lowered.txt``: the optimized lowered program the kernels render.

No GPU is needed: PTX comes from ``numba.cuda.compile_ptx``.
"""

from pathlib import Path

import numpy as np

from ...fileio import write_atomic
from ...passes import optimize
from .backend import build_plan
from .fused_matmul import MatmulSource
from .fused_reduce import ReductionSource


def kernel_signature(src):
    """The numba argument types a launcher passes to the generated kernel ``src``."""
    from numba import from_dtype, types  # noqa: PLC0415

    def tup(n):
        return types.UniTuple(types.int64, n)

    def arr(dtype):
        return types.Array(from_dtype(np.dtype(dtype)), 1, "C")

    outs = [arr(o.dtype) for o in src.outputs]
    i64 = types.int64
    if isinstance(src, MatmulSource):
        mm = src.matmul
        ro = len(mm.outputs[0].shape)
        rb = max(ro - 2, 1)
        sig = [i64, i64, i64, i64, tup(rb), tup(rb), i64, i64, tup(rb), i64, i64, tup(ro)]
        sig += outs + [arr(mm.outputs[0].dtype)] * 2
        for v in src.epilogue_inputs:
            sig += [arr(v.dtype), tup(ro)]
        return tuple(sig)
    if isinstance(src, ReductionSource):
        nd = max(len(v.shape) for v in src.inputs)
        rk, rr = max(nd - len(src.reduce_axes), 1), max(len(src.reduce_axes), 1)
        scale = from_dtype(np.dtype(src.outputs[0].dtype))
        sig = [tup(rk), tup(rr), types.int64, types.int64, scale, tup(rk), tup(rr)] + outs
        for v in src.inputs:
            sig += [arr(v.dtype), tup(rk), tup(rr)]
        return tuple(sig)
    rank = max(len(o.shape) for o in src.outputs) or 1
    sig = [tup(rank), types.int64] + outs
    for v in src.inputs:
        sig += [arr(v.dtype), tup(rank)]
    return tuple(sig)


def generated_kernels(plan):
    """(source object, kernel) for every generated kernel of a plan."""
    return [(la.group, la.kernel) for la in plan.launchers if hasattr(la, "group")]


def compile_ptx(src, kernel, cc=(9, 0)):
    from numba import cuda  # noqa: PLC0415
    text, _ = cuda.compile_ptx(kernel.py_func, kernel_signature(src), cc=cc)
    return text


def export(program, out_dir, cc=(9, 0)):
    """Write the sources and PTX of ``program`` (a Program) to ``out_dir``; returns
    the paths written."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    lp = optimize(program)
    plan = build_plan(lp)
    written = [out / "program.py", out / "lowered.txt"]
    write_atomic(written[0], plan.source.encode())
    write_atomic(written[1], (lp.dump() + "\n").encode())
    for src, kernel in generated_kernels(plan):
        path = out / f"{src.name}.ptx"
        write_atomic(path, compile_ptx(src, kernel, cc).encode())
        written.append(path)
    return written
