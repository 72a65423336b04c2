"""Softmax and log-softmax as explicit loops along their axis (max, sum of exps in
float64, then the outputs), the run-time label checks of the losses, and dropout
masks drawn from the session's generator inside the native call (Numba's
``Generator.random`` gives the same stream as ``rng.random(shape)`` on the host, so
masks equal the reference backend's draws)."""

from ....errors import GraphError
from ....ops.nn import DROPOUT_MASK, LABEL_ONE_HOT, LABELS_LIKE, LOG_SOFTMAX, SOFTMAX
from ...numba_common.codegen import literal
from . import CPU


@CPU.register(SOFTMAX, LOG_SOFTMAX)
def lower_softmax(ctx, lop):
    x, out = lop.inputs[0], lop.outputs[0]
    axis = lop.attrs["axis"]
    xs = ctx.array(x)
    dims = [ctx.dim(x, k) for k in range(x.ndim)]
    ctx.alloc(out, dims)
    o = ctx.out()
    outer = [k for k in range(x.ndim) if k != axis]
    n = dims[axis]
    if lop.op is SOFTMAX:  # one row of exps in float64, so each is computed once and
        row = ctx.fresh("ex")  # float32 results are still rounded once
        ctx.line(f"{row} = np.empty({n}, np.float64)")
    with ctx.loops([dims[k] for k in outer]) as idx:
        pos = dict(zip(outer, idx))

        def at(name, j):
            return f"{name}[{', '.join(j if k == axis else pos[k] for k in range(x.ndim))}]"
        m, s, j = ctx.fresh("mx"), ctx.fresh("sm"), ctx.fresh("j")
        ctx.line(f"{m} = -np.inf")
        with ctx.block(f"for {j} in range({n}):"):
            with ctx.block(f"if {at(xs, j)} > {m} or {at(xs, j)} != {at(xs, j)}:"):
                ctx.line(f"{m} = {at(xs, j)}")
        ctx.line(f"{m} = np.float64({m}) if {m} > -np.inf else 0.0")
        ctx.line(f"{s} = 0.0")
        with ctx.block(f"for {j} in range({n}):"):
            if lop.op is SOFTMAX:
                e = ctx.fresh("e")
                ctx.line(f"{e} = math.exp({at(xs, j)} - {m})")
                ctx.line(f"{row}[{j}] = {e}")
                ctx.line(f"{s} += {e}")
            else:
                ctx.line(f"{s} += math.exp({at(xs, j)} - {m})")
        if lop.op is SOFTMAX:
            with ctx.block(f"for {j} in range({n}):"):
                ctx.line(f"{at(o, j)} = {row}[{j}] / {s}")
        else:
            ls = ctx.fresh("lse")
            ctx.line(f"{ls} = {m} + math.log({s})")
            with ctx.block(f"for {j} in range({n}):"):
                ctx.line(f"{at(o, j)} = {at(xs, j)} - {ls}")


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
