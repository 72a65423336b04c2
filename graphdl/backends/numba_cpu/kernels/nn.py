"""Softmax and log-softmax as explicit loops along their axis (max, sum of exps in
float64, then the outputs), the run-time label checks of the losses, and dropout
masks drawn from the session's generator inside the native call (Numba's
``Generator.random`` gives the same stream as ``rng.random(shape)`` on the host, so
masks equal the reference backend's draws)."""

import numpy as np

from ....errors import GraphError
from ....ops.nn import DROPOUT_MASK, LABEL_ONE_HOT, LABELS_LIKE, LOG_SOFTMAX, SOFTMAX
from ...numba_common.codegen import literal
from . import CPU


@CPU.register(SOFTMAX, LOG_SOFTMAX)
def lower_softmax(ctx, lop):
    """Max, then one exp per element (in float32 for float32 inputs, as the reference
    computes it; summed in float64), then the outputs. A softmax and a log-softmax of
    the same input along the same axis (a cross-entropy's loss and its gradient) are
    computed together, at the first of the two: the exps are the step's main cost
    outside BLAS."""
    if lop in ctx.done:
        return
    x = lop.inputs[0]
    axis = lop.attrs["axis"]
    partner = _partner(ctx, lop)
    outs = {lop.op: lop.outputs[0]}
    if partner is not None:
        outs[partner.op] = partner.outputs[0]
        ctx.done.add(partner)
    xs = ctx.array(x)
    dims = [ctx.dim(x, k) for k in range(x.ndim)]
    names = {op: ctx.alloc(v, dims) for op, v in outs.items()}
    outer = [k for k in range(x.ndim) if k != axis]
    n = dims[axis]
    ft = "np.float32" if x.dtype == np.float32 else "np.float64"
    if SOFTMAX in outs:  # the row's exps in float64: each computed once, and the
        row = ctx.fresh("ex")  # float32 results still rounded once
        ctx.line(f"{row} = empty(({n}, ), np.float64)")
    with ctx.loops([dims[k] for k in outer]) as idx:
        pos = dict(zip(outer, idx))

        def at(name, j):
            return f"{name}[{', '.join(j if k == axis else pos[k] for k in range(x.ndim))}]"
        m, s, j = ctx.fresh("mx"), ctx.fresh("sm"), ctx.fresh("j")
        ctx.line(f"{m} = {ft}(-np.inf)")
        with ctx.block(f"for {j} in range({n}):"):
            with ctx.block(f"if {at(xs, j)} > {m} or {at(xs, j)} != {at(xs, j)}:"):
                ctx.line(f"{m} = {at(xs, j)}")
        ctx.line(f"{m} = {m} if {m} > -np.inf else {ft}(0.0)")
        ctx.line(f"{s} = 0.0")
        with ctx.block(f"for {j} in range({n}):"):
            e = ctx.fresh("e")
            ctx.line(f"{e} = math.exp({ft}({at(xs, j)} - {m}))")
            if SOFTMAX in outs:
                ctx.line(f"{row}[{j}] = {e}")
            ctx.line(f"{s} += {e}")
        if LOG_SOFTMAX in outs:
            ls = ctx.fresh("lse")
            ctx.line(f"{ls} = {m} + math.log({s})")
        with ctx.block(f"for {j} in range({n}):"):
            if SOFTMAX in outs:
                ctx.line(f"{at(names[SOFTMAX], j)} = {row}[{j}] / {s}")
            if LOG_SOFTMAX in outs:
                ctx.line(f"{at(names[LOG_SOFTMAX], j)} = {at(xs, j)} - {ls}")


def _partner(ctx, lop):
    """The other one of softmax/log-softmax of ``lop``'s input along its axis, if the
    program computes it too (and it is not lowered yet)."""
    other = LOG_SOFTMAX if lop.op is SOFTMAX else SOFTMAX
    for cand in ctx.lp.ops:
        if cand.op is other and cand.inputs[0] is lop.inputs[0] and \
                cand.attrs["axis"] == lop.attrs["axis"] and cand not in ctx.done and \
                cand.outputs[0] not in ctx.dims:
            return cand
    return None


@CPU.register(LABELS_LIKE)
def lower_labels_like(ctx, lop):
    labels, logits = lop.inputs
    loss = lop.attrs["loss"]
    la, lg = ctx.array(labels), ctx.array(logits)
    ctx.check(f"{la}.shape == {lg}.shape", f"{loss}: labels of run-time shape {{}} do not "
              "match logits of shape {}", [f"{la}.shape", f"{lg}.shape"])
    ctx.bind(lop.outputs[0], la, alias_of=labels)


@CPU.register(LABEL_ONE_HOT)
def lower_label_one_hot(ctx, lop):
    labels, like = lop.inputs
    out = lop.outputs[0]
    la, lk = ctx.array(labels), ctx.array(like)
    depth = f"{lk}.shape[{like.ndim - 1}]"
    lead = "(" + "".join(f"{lk}.shape[{k}], " for k in range(like.ndim - 1)) + ")"
    ctx.check(f"{la}.shape == {lead}", "sparse_softmax_cross_entropy: labels of run-time "
              "shape {} do not match logits {} without its last (class) axis",
              [f"{la}.shape", f"{lk}.shape"])
    ctx.alloc(out, [ctx.dim(like, k) for k in range(like.ndim)], fill=0)
    with ctx.loops([f"{la}.shape[{k}]" for k in range(labels.ndim)]) as idx:
        c = ctx.fresh("c")
        ctx.line(f"{c} = {la}[{', '.join(idx)}]" if idx else f"{c} = {la}[()]")
        ctx.check(f"0 <= {c} < {depth}", "sparse_softmax_cross_entropy: label {} is out "
                  "of range for {} classes", [c, depth], cls=GraphError)
        ctx.line(f"{ctx.at(out, idx + [c])} = 1")


@CPU.register(DROPOUT_MASK)
def lower_dropout_mask(ctx, lop):
    x, out = lop.inputs[0], lop.outputs[0]
    rate = lop.attrs["rate"]
    rng = ctx.use_rng()
    xs = ctx.array(x)
    u = ctx.fresh("u")
    shape = "(" + "".join(f"{xs}.shape[{k}], " for k in range(x.ndim)) + ")"
    ctx.line(f"{u} = {rng}.random({shape})")
    ctx.alloc(out, [ctx.dim(x, k) for k in range(x.ndim)])
    scale = literal(1.0 / (1.0 - rate), "float64")
    with ctx.loops([f"{xs}.shape[{k}]" for k in range(x.ndim)]) as idx:
        ctx.line(f"{ctx.at(out, idx)} = {scale} if {u}[{', '.join(idx)}] >= "
                 f"{literal(rate, 'float64')} else 0.0" if idx else
                 f"{ctx.at(out, idx)} = {scale} if {u}[()] >= {literal(rate, 'float64')} "
                 "else 0.0")
