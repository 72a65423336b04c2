"""Stabilization: rewrite numerically fragile compositions into their stable ops.

* ``log(softmax(x, axis))`` -> ``log_softmax(x, axis)`` (no log(0) when a probability
  underflows). This also turns a hand-written cross-entropy ``-sum(labels *
  log(softmax(logits)))`` into the cross-entropy from logits that
  ``gd.softmax_cross_entropy`` builds;
* ``log(sigmoid(x))`` -> ``-softplus(-x)``; ``log(1 - sigmoid(x))`` -> ``-softplus(x)``;
* ``log(sum(exp(x), axes))`` -> ``m + log(sum(exp(x - m), axes))`` with ``m`` the max
  (logsumexp: no overflow of exp, no log(0) when every exp underflows);
* the gradient of ``log(softmax(x))`` as the rules build it, ``y * (g/y - sum(g/y * y))``
  with ``y = softmax(x)``, -> ``g - y * sum(g)``: no division by a probability that
  underflowed to 0 (the cross-entropy gradient ``softmax - labels`` stays finite).

Values equal the originals wherever those are finite, and stay finite where the
originals would give -inf or nan. The softmax/sigmoid ops remain while something else
(a gradient rule) still reads them; the prune pass drops them otherwise.
"""

import numpy as np

from ..ops.axes import SQUEEZE
from ..ops.elementwise import (
    WHERE,
    add,
    divide,
    exp,
    greater,
    less,
    log,
    multiply,
    negative,
    sigmoid,
    softplus,
    subtract,
)
from ..ops.nn import LOG_SOFTMAX, SOFTMAX
from ..ops.reduction import MAX, SUM
from ..ops.sources import CONSTANT, FrozenArray
from .ir import all_equal, final, make_op

LOG, NEG, SIGMOID, SOFTPLUS, SUB, MUL, DIV, ADD, EXP, LESS, GREATER = (
    f.op for f in (log, negative, sigmoid, softplus, subtract, multiply, divide, add, exp,
                   less, greater))


def run(lp):
    """``lp`` with the patterns above rewritten; returns it."""
    mapping = {}
    ops = []
    for lop in lp.ops:
        if mapping:
            lop.inputs = tuple(final(mapping, v) for v in lop.inputs)
        if lop.op is LOG:
            new_ops = _rewrite(lop)
        elif lop.op is MUL:
            new_ops = _softmax_log_gradient(lop)
        else:
            new_ops = None
        if new_ops is None:
            ops.append(lop)
            continue
        ops.extend(new_ops)
        new_ops[-1].outputs[0].source = lop.outputs[0].source
        mapping[lop.outputs[0]] = new_ops[-1].outputs[0]
    lp.ops = ops
    lp.substitute(mapping)
    return lp


def _rewrite(lop):
    """New ops computing log's output stably (the last one's output), or None."""
    (y,) = lop.inputs
    p, origin = y.producer, lop.origin
    if p is None:
        return None
    if p.op is SOFTMAX:
        return [make_op(LOG_SOFTMAX, [p.inputs[0]], dict(p.attrs), origin)]
    if p.op is SIGMOID:  # log(sigmoid(x)) = -softplus(-x)
        neg_x = make_op(NEG, [p.inputs[0]], {}, origin)
        sp = make_op(SOFTPLUS, [neg_x.outputs[0]], {}, origin)
        return [neg_x, sp, make_op(NEG, [sp.outputs[0]], {}, origin)]
    if p.op is SUB:  # log(1 - sigmoid(x)) = -softplus(x)
        one, s = p.inputs
        q = s.producer
        if q is not None and q.op is SIGMOID and all_equal(one, 1) \
                and (p.outputs[0].shape, p.outputs[0].dtype) == (s.shape, s.dtype):
            sp = make_op(SOFTPLUS, [q.inputs[0]], {}, origin)
            return [sp, make_op(NEG, [sp.outputs[0]], {}, origin)]
    if p.op is SUM and _made_by(p.inputs[0], EXP) is not None:
        return _logsumexp(lop, p)
    return None


def _logsumexp(lop, total):
    """log(sum(exp(x), axes)) -> m + log(sum(exp(x - m), axes)), m the max of x along
    the axes where it is finite (0 elsewhere: an all -inf slice stays -inf, a +inf
    stays +inf instead of becoming inf - inf = nan)."""
    x = total.inputs[0].producer.inputs[0]
    axes, keepdims, origin = tuple(total.attrs["axes"]), total.attrs["keepdims"], lop.origin
    if not axes or x.dtype != lop.outputs[0].dtype:
        return None

    def op(o, inputs, attrs=None):
        new = make_op(o, inputs, attrs or {}, origin)
        made.append(new)
        return new.outputs[0]

    def const(value):
        return op(CONSTANT, [], {"value": FrozenArray(np.asarray(value, x.dtype))})

    made = []
    m = op(MAX, [x], {"axes": axes, "keepdims": True})
    zero = const(0.0)
    finite = op(WHERE, [op(LESS, [m, const(np.inf)]), m, zero])
    shift = op(WHERE, [op(GREATER, [m, const(-np.inf)]), finite, zero])
    summed = op(SUM, [op(EXP, [op(SUB, [x, shift])])], {"axes": axes, "keepdims": True})
    out = op(ADD, [op(LOG, [summed]), shift])
    if not keepdims:
        op(SQUEEZE, [out], {"axes": axes})
    return made


def _made_by(v, op):
    p = v.producer
    return p if p is not None and p.op is op else None


def _softmax_log_gradient(lop):
    """``y * (d - sum(d * y, axis, keepdims))`` with ``d = g / y``, ``y = softmax(x)``
    -> ``g - y * sum(g, axis, keepdims)``; None when ``lop`` is not that."""
    for y, t in (lop.inputs, lop.inputs[::-1]):
        soft, sub = _made_by(y, SOFTMAX), _made_by(t, SUB)
        if soft is None or sub is None:
            continue
        d, s = sub.inputs
        div, total = _made_by(d, DIV), _made_by(s, SUM)
        if div is None or total is None or div.inputs[1] is not y:
            continue
        g = div.inputs[0]
        m = _made_by(total.inputs[0], MUL)
        axis = soft.attrs["axis"]
        if m is None or set(m.inputs) != {d, y} or tuple(total.attrs["axes"]) != (axis,) \
                or not total.attrs["keepdims"]:
            continue
        if not (g.shape == y.shape == lop.outputs[0].shape and g.dtype == y.dtype
                == lop.outputs[0].dtype):
            continue
        origin = lop.origin
        sg = make_op(SUM, [g], {"axes": (axis,), "keepdims": True}, origin)
        ys = make_op(MUL, [y, sg.outputs[0]], {}, origin)
        return [sg, ys, make_op(SUB, [g, ys.outputs[0]], {}, origin)]
    return None
