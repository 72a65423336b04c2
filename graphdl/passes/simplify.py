"""Algebraic simplification: rewrites that keep every value bit-for-bit.

* ``x * 1``, ``1 * x``, ``x / 1``, ``x ** 1`` -> ``x``; ``x - 0`` and ``x + (-0.0)`` ->
  ``x`` (for floats ``x + 0.0`` stays: it turns -0.0 into +0.0); for integers any zero;
  ``-(-x)`` -> ``x`` — only when the result has x's shape and dtype (the constant does
  not broadcast it or promote it);
* ``cast`` to x's own dtype, ``reshape`` to x's own (fully known) shape, a transpose by
  the identity, ``sum_to_like``/``broadcast_like`` between equal fully known shapes:
  ``x``;
* ``reshape(reshape(x))`` -> one reshape (fully known shapes: no run-time size check is
  lost); ``transpose(transpose(x))`` -> one transpose by the composed permutation;
* ``sum_to_like(g, like)`` with like's shape known -> ``sum`` over the broadcast axes
  (plus a reshape when size-1 axes stay): an ordinary reduction, which fuses;
* ``matmul(transpose(a), b)`` where the transpose swaps the last two axes -> ``matmul(a,
  b, transpose_a=True)`` (likewise ``b``): BLAS reads the operand transposed, no copy.
  After this pass every lowered matmul has both ``transpose_a`` and ``transpose_b``.

Ops left without readers are removed by the prune pass that follows.
"""

import numpy as np

from ..ops.axes import BROADCAST_LIKE, SUM_TO_LIKE
from ..ops.elementwise import CAST, add, divide, multiply, negative, power, subtract
from ..ops.linalg import MATMUL, TRANSPOSE
from ..ops.reduction import SUM
from ..ops.shape import RESHAPE
from .ir import all_equal, constant_array, final, make_op

ADD, SUB, MUL, DIV, POW, NEG = (f.op for f in (add, subtract, multiply, divide, power,
                                                negative))


def run(lp):
    """``lp`` simplified (see the module doc); returns it."""
    mapping, ops = {}, []
    for lop in lp.ops:
        if mapping:
            lop.inputs = tuple(final(mapping, v) for v in lop.inputs)
        replacement = _rewrite(lop)
        if replacement is None:
            ops.append(lop)
        elif isinstance(replacement, list):  # new ops computing it, the last one's output
            replacement[-1].outputs[0].source = lop.outputs[0].source
            ops.extend(replacement)
            mapping[lop.outputs[0]] = replacement[-1].outputs[0]
        else:
            mapping[lop.outputs[0]] = replacement
    for lop in ops:
        if lop.op is MATMUL:
            lop.attrs.setdefault("transpose_a", False)
            lop.attrs.setdefault("transpose_b", False)
    lp.ops = ops
    lp.substitute(mapping)
    return lp


def _zeros(v, negative_zero):
    """All zero; for floats also the right sign (x + (-0.0) and x - (+0.0) are exact)."""
    c = constant_array(v)
    if c is None or c.size == 0 or not (c == 0).all():
        return False
    return v.dtype.kind != "f" or bool((np.signbit(c) == negative_zero).all())


def _keeps(lop, x):
    """x can stand for lop's output: same static shape and dtype."""
    out = lop.outputs[0]
    return out.shape == x.shape and out.dtype == x.dtype


def _known(shape):
    return None not in shape


def _rewrite(lop):
    """A Value that equals lop's output, a list of new LOps computing it, or None."""
    op, ins, attrs = lop.op, lop.inputs, lop.attrs
    if op is MUL:
        a, b = ins
        for x, c in ((a, b), (b, a)):
            if all_equal(c, 1) and _keeps(lop, x):
                return x
    elif op in (DIV, POW):
        if all_equal(ins[1], 1) and _keeps(lop, ins[0]):
            return ins[0]
    elif op is ADD:
        a, b = ins
        for x, c in ((a, b), (b, a)):
            if _zeros(c, negative_zero=True) and _keeps(lop, x):
                return x
    elif op is SUB:
        if _zeros(ins[1], negative_zero=False) and _keeps(lop, ins[0]):
            return ins[0]
    elif op is NEG:
        p = ins[0].producer
        if p is not None and p.op is NEG:
            return p.inputs[0]
    elif op is CAST:
        if ins[0].dtype == attrs["dtype"]:
            return ins[0]
    elif op is RESHAPE:
        return _reshape(lop)
    elif op is TRANSPOSE:
        return _transpose(lop)
    elif op in (SUM_TO_LIKE, BROADCAST_LIKE):
        x, like = ins
        if x.shape == like.shape and _known(x.shape) and _keeps(lop, x):
            return x
        if op is SUM_TO_LIKE:
            return _sum_to_like(lop)
    elif op is MATMUL:
        return _matmul(lop)
    return None


def _reshape(lop):
    x = lop.inputs[0]
    if _known(x.shape) and _keeps(lop, x):
        return x
    p = x.producer
    if p is not None and p.op is RESHAPE and _known(p.inputs[0].shape):
        return [make_op(RESHAPE, [p.inputs[0]], {"shape": lop.attrs["shape"]}, lop.origin)]
    return None


def _transpose(lop):
    x, perm = lop.inputs[0], tuple(lop.attrs["perm"])
    if perm == tuple(range(len(perm))):
        return x
    p = x.producer
    if p is not None and p.op is TRANSPOSE:
        inner = tuple(p.attrs["perm"])
        composed = tuple(inner[i] for i in perm)
        if composed == tuple(range(len(composed))):
            return p.inputs[0]
        return [make_op(TRANSPOSE, [p.inputs[0]], {"perm": composed}, lop.origin)]
    return None


def _swaps_last_two(lop):
    if lop is None or lop.op is not TRANSPOSE:
        return False
    n = len(lop.attrs["perm"])
    return n >= 2 and tuple(lop.attrs["perm"]) == (*range(n - 2), n - 1, n - 2)


def _matmul(lop):
    a, b = lop.inputs
    ta, tb = lop.attrs.get("transpose_a", False), lop.attrs.get("transpose_b", False)
    changed = False
    if _swaps_last_two(a.producer):
        a, ta, changed = a.producer.inputs[0], not ta, True
    if _swaps_last_two(b.producer):
        b, tb, changed = b.producer.inputs[0], not tb, True
    if not changed:
        return None
    return [make_op(MATMUL, [a, b], {"transpose_a": ta, "transpose_b": tb}, lop.origin)]


def _sum_to_like(lop):
    """sum_to_like(g, like) with like's shape fully known -> a sum over the axes that
    broadcasting added (leading ones, and those where like has size 1: summing a
    size-1 axis changes nothing, so a ``None`` dim of g there is fine), then a reshape
    when size-1 axes are kept. A plain reduction fuses with g's producers."""
    g, like = lop.inputs
    if not _known(like.shape):
        return None
    lead = g.ndim - like.ndim
    inner = tuple(lead + i for i, d in enumerate(like.shape)
                  if d == 1 and g.shape[lead + i] != 1)
    axes = tuple(range(lead)) + inner
    if not axes:
        return None
    total = make_op(SUM, [g], {"axes": axes, "keepdims": bool(inner)}, lop.origin)
    if total.outputs[0].dtype != lop.outputs[0].dtype:
        return None
    if not inner:
        return [total] if total.outputs[0].shape == like.shape else None
    return [total, make_op(RESHAPE, [total.outputs[0]], {"shape": like.shape}, lop.origin)]
