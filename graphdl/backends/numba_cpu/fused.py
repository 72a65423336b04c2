"""Fused kernels (``lp.kernels`` from graphdl/passes/fuse.py) as single loop nests.

* ``elementwise``: one loop nest over the kernel's shape; each op's scalar function
  computes a local scalar (converted to the op's output dtype, as the reference
  rounds each op's result); only the kernel's ``outputs`` are stored to arrays.
* ``reduction``: the same loop nest over the reduction's *input* shape, the producers
  computed as scalars and the last value accumulated (float sums in float64).
* ``matmul``: the matmul's rule (BLAS into its own array), then its epilogue as a
  fused elementwise loop over the product. A head of the epilogue of the form
  ``alpha * product`` (scaling by literals, negation) is folded into the BLAS call
  (``gemm``'s ``alpha``), and so is ``+ beta * old`` when the result is a variable
  update written into ``old``'s own array (SGD: ``W - lr * (x.T @ dh)`` is one
  ``gemm`` with ``alpha = -lr``, ``beta = 1``, in place).
* ``op``, and one-op kernels: the op's rule from the lowering table.
"""

import numpy as np

from ...ops.elementwise import add, multiply, negative, subtract
from ...ops.linalg import MATMUL
from ...ops.reduction import MAX, MEAN, MIN
from ..numba_common.codegen import dtype_name
from .codegen import broadcast, constant_array
from .kernels.reduction import new_accumulator, reduction_loops, store_cast

ADD, SUB, MUL, NEG = add.op, subtract.op, multiply.op, negative.op


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
        rest = _matmul(ctx, kernel, ops, table, node_name)
        if rest:
            _elementwise(ctx, rest, kernel.shape, kernel.outputs)
    elif len(ops) == 1:
        _single(ctx, ops[0], table, node_name)
    elif kernel.kind == "elementwise":
        _elementwise(ctx, ops, kernel.shape, kernel.outputs)
    elif kernel.kind == "reduction":
        _reduction(ctx, kernel, ops)
    else:
        for lop in ops:
            _single(ctx, lop, table, node_name)


def _matmul(ctx, kernel, ops, table, node_name):
    """The product, with the head of its epilogue folded into the BLAS call where it
    is ``alpha * product`` or ``alpha * product + beta * old`` (old: the variable
    whose array receives the result in place); returns the epilogue ops left."""
    mm = ops[0]
    product = mm.outputs[0]
    if product.ndim != 2 or product.dtype.kind != "f" or mm.op is not MATMUL:
        _single(ctx, mm, table, node_name)
        return ops[1:]
    alpha, beta, y, last, used = _affine_head(ctx, kernel, ops)
    rest = used < len(ops)  # epilogue ops left: their run-time checks follow the BLAS call
    if y is not None and (ctx.in_place.get(last) is not y or rest):
        alpha, beta, y, last, used = _affine_head(ctx, kernel, ops, allow_y=False)
        rest = used < len(ops)
    if last in ctx.in_place and rest:  # the call must not write into a variable before
        del ctx.in_place[last]         # a check that can still fail the run
    ctx.lop = mm
    table.rule(MATMUL, node_name(mm))(ctx, mm, result=last, alpha=alpha, beta=beta)
    return ops[used:]


def _affine_head(ctx, kernel, ops, allow_y=True):
    """(alpha, beta, y, last value, ops used): the longest head ``ops[1:used]`` computing
    ``last = alpha * product + beta * y`` elementwise, with scalar literals, at most one
    array ``y`` of the product's exact shape and dtype, and every value but ``last``
    used once, inside the head only."""
    product = ops[0].outputs[0]
    uses = {}
    for lop in ops:
        for v in lop.inputs:
            uses[v] = uses.get(v, 0) + 1
    outputs = set(kernel.outputs)
    alpha, beta, y = 1.0, 0.0, None
    best = (alpha, beta, y, product, 1)
    cur = product
    for used, lop in enumerate(ops[1:], start=2):
        if uses.get(cur) != 1 or cur in outputs or cur not in lop.inputs:
            break
        out = lop.outputs[0]
        if out.shape != product.shape or out.dtype != product.dtype:
            break
        others = [v for v in lop.inputs if v is not cur]
        scalar = [_scalar(ctx, v) for v in others]
        if lop.op is NEG and not others:
            alpha, beta = -alpha, -beta
        elif lop.op is MUL and len(others) == 1 and scalar[0] is not None:
            alpha, beta = alpha * scalar[0], beta * scalar[0]
        elif lop.op in (ADD, SUB) and len(others) == 1 and allow_y and y is None \
                and scalar[0] is None and others[0].shape == product.shape \
                and others[0].dtype == product.dtype and others[0].producer not in ops:
            y = others[0]
            if lop.op is ADD:
                beta = 1.0
            elif lop.inputs[0] is y:  # y - cur
                alpha, beta = -alpha, 1.0
            else:                     # cur - y
                beta = -1.0
        else:
            break
        cur = out
        best = (alpha, beta, y, cur, used)
    return best


def _scalar(ctx, v):
    """The value of a finite scalar literal ``v``, else None."""
    if v not in ctx.literals or v.ndim != 0:
        return None
    value = float(constant_array(v.producer))
    return value if np.isfinite(value) else None


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
    acc_dims = [("1" if k in axes else dims[k]) for k in range(len(dims))
                if keep or k not in axes]
    acc, acc_dtype = new_accumulator(ctx, op, x.dtype, acc_dims)
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
