"""Matrix products through BLAS (2-D: the ``gemm`` library kernel, kernels/blas.py;
batched: ``np.dot(a, b, out)`` per matrix, batch axes broadcast in a loop around it;
operands C-contiguous of the output dtype, transposes read through BLAS flags) and
transposes (copied to C order, so every array in a program stays contiguous and its
Numba type stable)."""

import numpy as np

from ....ops.linalg import MATMUL, TRANSPOSE
from ...numba_common.codegen import dtype_name
from ..codegen import broadcast
from . import CPU


def operand(ctx, x, dtype):
    """Source name of ``x`` as a C-contiguous array of ``dtype``."""
    name = ctx.array(x)
    if x.dtype != dtype:
        cast = ctx.fresh("m")
        ctx.line(f"{cast} = {name}.astype({dtype_name(dtype)})")
        return cast
    return name


@CPU.register(MATMUL)
def lower_matmul(ctx, lop, result=None, alpha=1.0, beta=0.0):
    """The rule; the fused matmul kernel also calls it with ``result`` (a Value of the
    product's shape and dtype that the epilogue computes as ``alpha * product +
    beta * old``, where ``result`` is an update written into the array holding
    ``old``, or ``beta`` is 0) to fold that epilogue into the BLAS call."""
    a, b = lop.inputs
    out = lop.outputs[0] if result is None else result
    ta, tb = lop.attrs.get("transpose_a", False), lop.attrs.get("transpose_b", False)
    an, bn = operand(ctx, a, out.dtype), operand(ctx, b, out.dtype)
    # (n, k) of a and (k, m) of b as read (transposed operands read swapped: BLAS flags)
    ra, rb = (a.ndim - 1, a.ndim - 2) if ta else (a.ndim - 2, a.ndim - 1)
    rb_k, rb_m = (b.ndim - 1, b.ndim - 2) if tb else (b.ndim - 2, b.ndim - 1)
    k_a, k_b = f"{an}.shape[{rb}]", f"{bn}.shape[{rb_k}]"
    if a.shape[rb] is None or b.shape[rb_k] is None:
        ctx.fit_check(f"{k_a} == {k_b}", "inner dimensions differ")
    n, m = ctx.dim(a, ra), ctx.dim(b, rb_m)
    ta_s, tb_s = (".T" if ta else ""), (".T" if tb else "")
    if out.dtype.kind != "f":
        _integer_matmul(ctx, lop, an + ta_s, bn + tb_s, n, m, k_a)
        return
    if out.ndim == 2:
        cn = ctx.alloc(out, [n, m])
        gemm_call(ctx, an, bn, cn, ta, tb, alpha, beta, out.dtype)
        return
    if result is not None:
        raise AssertionError("internal: a folded epilogue needs a 2-D float matmul")
    # batched: loop over the broadcast batch axes, one BLAS call per matrix pair
    batch_out = _batch_view(out)
    ctx.names[_batch_view(a)], ctx.names[_batch_view(b)] = an, bn
    dims, index = broadcast(ctx, batch_out, [_batch_view(a), _batch_view(b)])
    ctx.alloc(out, dims + [n, m])
    with ctx.loops(dims) as idx:
        ia = _matrix(index(_batch_view(a), idx), an)
        ib = _matrix(index(_batch_view(b), idx), bn)
        ctx.line(f"np.dot({ia}{ta_s}, {ib}{tb_s}, {ctx.out()}[{', '.join(idx)}])")


def gemm_call(ctx, an, bn, cn, ta, tb, alpha, beta, dtype):
    """``cn = alpha * op(an) @ op(bn) + beta * cn`` through the BLAS library kernel
    (kernels/blas.py, called by address: kernels/library.py; one call, no temporary,
    transposes as BLAS flags); the arrays are of ``dtype``."""
    # np.bool_(...): a bare True is typed Literal[bool](True); the library casts it,
    # but a dispatcher call (a dtype without a library variant) would compile the
    # kernel once per combination of flags
    ctx.call_kernel("gemm", dtype, [an, bn, cn, f"np.bool_({bool(ta)})",
                                    f"np.bool_({bool(tb)})", repr(float(alpha)),
                                    repr(float(beta))])


class _BatchView:
    """A Value seen without its last two axes (for batch-axis broadcasting)."""

    def __init__(self, v):
        self.v = v
        self.shape = v.shape[:-2]
        self.ndim = len(self.shape)
        self.dtype = v.dtype

    def __hash__(self):
        return hash((id(self.v), "batch"))

    def __eq__(self, other):
        return isinstance(other, _BatchView) and other.v is self.v


def _batch_view(v):
    return _BatchView(v)


def _matrix(element, name):
    """'a[i0, 0]' (an element expression of the batch view) -> 'a[i0, 0]' as a matrix."""
    return element if element != f"{name}[()]" else name


def _integer_matmul(ctx, lop, an, bn, n, m, k):
    a, b = lop.inputs
    out = lop.outputs[0]
    if out.ndim != 2:
        from ...lowering import LoweringError  # noqa: PLC0415
        raise LoweringError(f"matmul: batched integer matmul is not supported by the numba "
                            f"backend (node {lop.origin.name if lop.origin else 'matmul'!r})")
    ctx.alloc(out, [n, m], fill=0)
    o = ctx.out()
    with ctx.loops([n, k, m]) as (i, p, j):
        ctx.line(f"{o}[{i}, {j}] += {an}[{i}, {p}] * {bn}[{p}, {j}]")


@CPU.register(TRANSPOSE)
def lower_transpose(ctx, lop):
    x, out = lop.inputs[0], lop.outputs[0]
    perm = lop.attrs["perm"]
    if list(perm) == sorted(perm):
        ctx.bind(out, ctx.array(x), alias_of=x)
        return
    perm_text = "(" + "".join(f"{p}, " for p in perm) + ")"
    ctx.bind(out, f"np.ascontiguousarray({ctx.array(x)}.transpose({perm_text}))")


__all__ = ["gemm_call", "lower_matmul", "lower_transpose", "np"]
