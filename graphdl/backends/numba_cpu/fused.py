"""Fused kernels (``lp.kernels`` from graphdl/passes/fuse.py) as single loop nests.

* ``elementwise``: one loop nest over the kernel's shape; each op's scalar function
  computes a local scalar (converted to the op's output dtype, as the reference
  rounds each op's result); only the kernel's ``outputs`` are stored to arrays.
* ``reduction``: the same loop nest over the reduction's *input* shape, the producers
  computed as scalars and the last value accumulated (float sums in float64).
* ``matmul``: the matmul's rule (BLAS into its own array), then its epilogue as a
  fused elementwise loop over the product.
* ``op``, and one-op kernels: the op's rule from the lowering table.
"""

import numpy as np

from ...ops.reduction import MAX, MEAN, MIN, SUM
from ..numba_common.codegen import dtype_name
from .codegen import broadcast
from .kernels.reduction import accumulator_dtype, init_text, reduction_loops, store_cast


class _Iteration:
    """A stand-in Value for a kernel's iteration space (broadcasting target)."""

    def __init__(self, shape):
        self.shape = tuple(shape)
        self.ndim = len(self.shape)


def render_kernel(ctx, kernel, table, node_name, line_ops):
    ops = [lop for lop in kernel.ops if lop.op.source != "constant"]
    if not ops:
        return
    line_ops.append((len(ctx.src.lines) + 1, ops[0]))
    if kernel.kind == "matmul":
        _single(ctx, ops[0], table, node_name)
        if len(ops) > 1:
            _elementwise(ctx, ops[1:], kernel.shape, kernel.outputs)
    elif len(ops) == 1:
        _single(ctx, ops[0], table, node_name)
    elif kernel.kind == "elementwise":
        _elementwise(ctx, ops, kernel.shape, kernel.outputs)
    elif kernel.kind == "reduction":
        _reduction(ctx, kernel, ops)
    else:
        for lop in ops:
            _single(ctx, lop, table, node_name)


def _single(ctx, lop, table, node_name):
    ctx.lop = lop
    table.rule(lop.op, node_name(lop))(ctx, lop)
    for out in lop.outputs:
        if out not in ctx.dims and out in ctx.names:
            ctx.record_dims(out)


def _external_inputs(ops):
    inside = {o for lop in ops for o in lop.outputs}
    seen, inputs = set(), []
    for lop in ops:
        for v in lop.inputs:
            if v not in inside and v not in seen:
                seen.add(v)
                inputs.append(v)
    return inputs


def _converted(expr, dtype):
    """``expr`` converted to ``dtype`` as the store to an array of it would."""
    dtype = np.dtype(dtype)
    if dtype == np.float64:
        return expr
    return f"{dtype_name(dtype)}({expr})"


def _body(ctx, ops, index, idx, outputs, local):
    """The scalar code of ``ops`` at loop index ``idx``; stores ``outputs``."""
    for lop in ops:
        ctx.lop = lop
        args = [local[v] if v in local else index(v, idx) for v in lop.inputs]
        out = lop.outputs[0]
        t = ctx.fresh("t")
        ctx.line(f"{t} = {_converted(ctx.scalars.expression(lop.op, args, lop.attrs), out.dtype)}")
        local[out] = t
        if out in outputs:
            ctx.line(f"{ctx.at(out, idx)} = {t}")


def _elementwise(ctx, ops, shape, outputs):
    ctx.lop = ops[0]
    produced = {o for lop in ops for o in lop.outputs}
    stored = [v for v in outputs if v in produced]
    dims, index = broadcast(ctx, _Iteration(shape), _external_inputs(ops))
    for v in stored:
        ctx.alloc(v, dims)
    with ctx.loops(dims) as idx:
        _body(ctx, ops, index, idx, set(stored), {})


def _reduction(ctx, kernel, ops):
    producers, red = ops[:-1], ops[-1]
    ctx.lop = red
    axes, keep = set(red.attrs["axes"]), red.attrs["keepdims"]
    x = red.inputs[0]
    out = red.outputs[0]
    produced = {o for lop in producers for o in lop.outputs}
    stored = [v for v in kernel.outputs if v in produced]
    dims, index = broadcast(ctx, _Iteration(kernel.shape), _external_inputs(ops))
    for v in stored:
        ctx.alloc(v, dims)
    op = red.op
    acc_dtype = accumulator_dtype(x.dtype) if op in (SUM, MEAN) else x.dtype
    acc = ctx.fresh("acc")
    acc_dims = [("1" if k in axes else dims[k]) for k in range(len(dims))
                if keep or k not in axes]
    shape = "(" + "".join(f"{d}, " for d in acc_dims) + ")"
    init = init_text(op, x.dtype)
    if init == "0":
        ctx.line(f"{acc} = np.zeros({shape}, {dtype_name(acc_dtype)})")
    else:
        ctx.line(f"{acc} = np.full({shape}, {init}, {dtype_name(acc_dtype)})")
    reduced = " * ".join(dims[k] for k in sorted(axes)) or "1"
    if op in (MAX, MIN) and any(kernel.shape[k] in (None, 0) for k in axes):
        ctx.fit_check(f"{reduced} > 0", "reduction over an empty axis has no identity")
    with reduction_loops(ctx, op, acc, acc_dtype, dims, axes, keep) as (idx, add):
        local = {}
        _body(ctx, producers, index, idx, set(stored), local)
        ctx.lop = red
        add(local[x] if x in local else index(x, idx))
    if op is MEAN:
        ctx.line(f"{acc} /= {reduced}")
    store_cast(ctx, out, acc, acc_dtype)
    ctx.record_dims(out, acc_dims)
