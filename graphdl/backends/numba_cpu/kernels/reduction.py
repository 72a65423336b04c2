"""Reductions as explicit loops (``a.sum(axis=...)`` inside njit costs seconds of
compile time), and the shape plumbing of gradients: count, expand_dims, squeeze,
broadcast_like, sum_to_like. Float sums accumulate in float64."""

from contextlib import contextmanager

import numpy as np

from ....ops.axes import BROADCAST_LIKE, EXPAND_DIMS, SQUEEZE, SUM_TO_LIKE
from ....ops.reduction import ARGMAX, ARGMIN, COUNT, MAX, MEAN, MIN, SUM
from ...numba_common.codegen import dtype_name
from . import CPU


def accumulator_dtype(dtype):
    dtype = np.dtype(dtype)
    return np.dtype(np.float64) if dtype.kind == "f" else np.dtype(np.int64)


def init_text(op, dtype):
    if op is SUM or op is MEAN:
        return "0"
    dtype = np.dtype(dtype)
    if dtype.kind == "f":
        return "-np.inf" if op is MAX else "np.inf"
    if dtype == np.bool_:
        return "False" if op is MAX else "True"
    info = np.iinfo(dtype)
    return str(info.min if op is MAX else info.max)


def store_cast(ctx, out, acc, acc_dtype):
    """``out`` = the accumulator array (new in this call), converted when the dtypes
    differ."""
    if np.dtype(acc_dtype) == out.dtype:
        ctx.bind(out, acc)
    else:
        ctx.bind(out, f"{acc}.astype({dtype_name(out.dtype)})")
    ctx.allocated.add(out)


def new_accumulator(ctx, op, dtype, acc_dims):
    """(name, dtype) of a fresh accumulator array of shape ``acc_dims`` holding the
    identity of reduction ``op`` over ``dtype`` inputs (sums in a wider dtype)."""
    acc_dtype = accumulator_dtype(dtype) if op in (SUM, MEAN) else dtype
    acc = ctx.fresh("acc")
    shape = "(" + "".join(f"{d}, " for d in acc_dims) + ")"
    init = init_text(op, dtype)
    if init == "0":
        ctx.line(f"{acc} = zeros({shape}, {dtype_name(acc_dtype)})")
    else:
        ctx.line(f"{acc} = full({shape}, {init}, {dtype_name(acc_dtype)})")
    return acc, acc_dtype


@CPU.register(SUM, MEAN, MAX, MIN)
def lower_reduce(ctx, lop):
    (x,), out, op = lop.inputs, lop.outputs[0], lop.op
    axes, keep = set(lop.attrs["axes"]), lop.attrs["keepdims"]
    xs = ctx.array(x)
    acc_dims = [("1" if k in axes else ctx.dim(x, k)) for k in range(x.ndim)
                if keep or k not in axes]
    acc_dims = [ctx.dim(x, k) if d == f"{xs}.shape[{k}]" else d for k, d in enumerate(acc_dims)]
    acc, acc_dtype = new_accumulator(ctx, op, x.dtype, acc_dims)
    reduced = " * ".join(ctx.dim(x, k) for k in sorted(axes)) or "1"
    if op in (MAX, MIN) and any(x.shape[k] in (None, 0) for k in axes):
        ctx.fit_check(f"{reduced} > 0", "reduction over an empty axis has no identity")
    dims = [f"{xs}.shape[{k}]" for k in range(x.ndim)]
    with reduction_loops(ctx, op, acc, acc_dtype, dims, axes, keep) as (idx, add):
        add(f"{xs}[{', '.join(idx)}]" if idx else f"{xs}[()]")
    if op is MEAN:
        ctx.line(f"{acc} /= {reduced}")
    store_cast(ctx, out, acc, acc_dtype)
    ctx.record_dims(out, acc_dims)


@contextmanager
def reduction_loops(ctx, op, acc, acc_dtype, dims, axes, keep):
    """The loop nest of a reduction over ``dims`` into the accumulator array ``acc``;
    yields ``(idx, add)``: the loop indices and ``add(v)``, which emits the update of
    one element ``v`` (written inside the innermost loop).

    When the innermost axes are all reduced (a bias gradient: sum over N, H, W of
    NCHW), they are accumulated in a local scalar that is added to ``acc`` once per
    outer position: an update of the array element inside the loop is a store and a
    reload per element (3.7 ms instead of 1.0 ms for a 64x32x26x26 sum)."""
    n = len(dims)
    split = n
    while split > 0 and (split - 1) in axes:
        split -= 1
    if split == n:  # the innermost axis is kept: vectorizes over the array
        with ctx.loops(dims) as idx:
            yield idx, lambda v: accumulate(ctx, op, acc, idx, axes, keep, v)
        return
    with ctx.loops(dims[:split]) as outer:
        s = ctx.fresh("s")
        ctx.line(f"{s} = {dtype_name(acc_dtype)}({init_text(op, acc_dtype)})")
        with ctx.loops(dims[split:]) as inner:
            yield outer + inner, lambda v: _update(ctx, op, s, v)
        target = [("0" if k in axes else outer[k]) for k in range(n) if keep or k not in axes]
        _update(ctx, op, f"{acc}[{', '.join(target)}]" if target else f"{acc}[()]", s)


def _update(ctx, op, a, v):
    """``a`` (an lvalue) updated with the element ``v``: added for sum/mean; for
    max/min replaced when larger/smaller, NaN winning as in ``np.max``."""
    if op in (SUM, MEAN):
        ctx.line(f"{a} += {v}")
        return
    e = ctx.fresh("e")
    ctx.line(f"{e} = {v}")
    cmp = ">" if op is MAX else "<"
    with ctx.block(f"if {e} {cmp} {a} or {e} != {e}:"):
        ctx.line(f"{a} = {e}")


def accumulate(ctx, op, acc, idx, axes, keep, v):
    """Emit one element ``v`` (at loop indices ``idx``) into the accumulator array
    ``acc``: added for sum/mean; for max/min kept when larger/smaller, NaN winning as in
    ``np.max``. Shared by plain reductions and reductions with fused producers."""
    target = [("0" if k in axes else idx[k]) for k in range(len(idx)) if keep or k not in axes]
    _update(ctx, op, f"{acc}[{', '.join(target)}]" if target else f"{acc}[()]", v)


@CPU.register(ARGMAX, ARGMIN)
def lower_arg_reduce(ctx, lop):
    (x,), out = lop.inputs, lop.outputs[0]
    (axis,), keep = lop.attrs["axes"], lop.attrs["keepdims"]
    xs = ctx.array(x)
    if x.shape[axis] in (None, 0):
        ctx.fit_check(f"{xs}.shape[{axis}] > 0", f"{lop.op.name} of an empty axis")
    dims = [("1" if k == axis else ctx.dim(x, k)) for k in range(x.ndim)
            if keep or k != axis]
    ctx.alloc(out, dims)
    outer = [k for k in range(x.ndim) if k != axis]
    with ctx.loops([f"{xs}.shape[{k}]" for k in outer]) as idx:
        pos = dict(zip(outer, idx))

        def elem(j):
            return f"{xs}[{', '.join(j if k == axis else pos[k] for k in range(x.ndim))}]"
        best, bi, j, e = (ctx.fresh(p) for p in ("best", "bi", "j", "e"))
        ctx.line(f"{best} = {elem('0')}")
        ctx.line(f"{bi} = 0")
        cmp = ">" if lop.op is ARGMAX else "<"
        with ctx.block(f"for {j} in range(1, {xs}.shape[{axis}]):"):
            ctx.line(f"{e} = {elem(j)}")
            with ctx.block(f"if {e} {cmp} {best} or ({e} != {e} and {best} == {best}):"):
                ctx.line(f"{best} = {e}")
                ctx.line(f"{bi} = {j}")
        target = [("0" if k == axis else pos[k]) for k in range(x.ndim) if keep or k != axis]
        ctx.line(f"{ctx.at(out, target)} = {bi}")


@CPU.register(COUNT)
def lower_count(ctx, lop):
    x, out = lop.inputs[0], lop.outputs[0]
    n = " * ".join(f"{ctx.array(x)}.shape[{a}]" for a in lop.attrs["axes"]) or "1"
    ctx.alloc(out, [])
    ctx.line(f"{ctx.at(out, [])} = {n}")


def reshape_to(ctx, lop, dims):
    """Output 0 = input 0 with new dims (a view; every array here is C-contiguous)."""
    x, out = lop.inputs[0], lop.outputs[0]
    ctx.record_dims(out, list(dims))
    shape = "(" + "".join(f"{d}, " for d in ctx.dims[out]) + ")"
    ctx.bind(out, f"{ctx.array(x)}.reshape({shape})", alias_of=x)


@CPU.register(EXPAND_DIMS)
def lower_expand_dims(ctx, lop):
    x = lop.inputs[0]
    dims = [ctx.dim(x, k) for k in range(x.ndim)]
    for a in lop.attrs["axes"]:
        dims.insert(a, "1")
    reshape_to(ctx, lop, dims)


@CPU.register(SQUEEZE)
def lower_squeeze(ctx, lop):
    x, axes = lop.inputs[0], lop.attrs["axes"]
    for a in axes:
        if x.shape[a] is None:
            ctx.check(f"{ctx.dim(x, a)} == 1", f"squeeze: axes {list(axes)} of run-time "
                      "shape {} are not all of size 1", [f"{ctx.name(x)}.shape"])
    reshape_to(ctx, lop, [ctx.dim(x, k) for k in range(x.ndim) if k not in axes])


def broadcast_into(ctx, x, dims, out_static):
    """Index function reading ``x`` broadcast to ``dims`` (checks unknown dims of x)."""
    rank = len(dims)
    strides = {}
    for j in range(x.ndim):
        k = j + rank - x.ndim
        if x.shape[j] is None and x not in ctx.literals:
            d = ctx.dim(x, j)
            ctx.fit_check(f"{d} == {dims[k]} or {d} == 1",
                          f"cannot broadcast axis {j} to the target size")
            if out_static[k] != 1:
                s = ctx.fresh("s")
                ctx.line(f"{s} = 0 if {d} == 1 else 1")
                strides[j] = s

    def index(idx):
        if x in ctx.literals:
            return ctx.literals[x]
        sub = []
        for j in range(x.ndim):
            k = j + rank - x.ndim
            if x.shape[j] == 1:
                sub.append("0")
            elif j in strides:
                sub.append(f"{idx[k]} * {strides[j]}")
            else:
                sub.append(idx[k])
        return ctx.at(x, sub)
    return index


def lower_broadcast_copy(ctx, x, out, dims):
    index = broadcast_into(ctx, x, dims, out.shape)
    ctx.alloc(out, dims)
    with ctx.loops(dims) as idx:
        ctx.line(f"{ctx.at(out, idx)} = {index(idx)}")


@CPU.register(BROADCAST_LIKE)
def lower_broadcast_like(ctx, lop):
    x, like = lop.inputs
    out = lop.outputs[0]
    dims = [ctx.dim(like, k) if like not in ctx.literals else "1" for k in range(like.ndim)]
    lower_broadcast_copy(ctx, x, out, dims)


@CPU.register(SUM_TO_LIKE)
def lower_sum_to_like(ctx, lop):
    g, like = lop.inputs
    out = lop.outputs[0]
    gs = ctx.array(g)
    lead = g.ndim - like.ndim
    dims = [ctx.dim(like, k) for k in range(like.ndim)]
    acc_dtype = accumulator_dtype(out.dtype)
    ctx.record_dims(out, dims)
    acc = ctx.fresh("acc")
    shape = "(" + "".join(f"{d}, " for d in dims) + ")"
    ctx.line(f"{acc} = zeros({shape}, {dtype_name(acc_dtype)})")
    strides = {}
    for k in range(like.ndim):
        gd_ = f"{gs}.shape[{k + lead}]"
        if like.shape[k] is None or g.shape[k + lead] is None:
            ctx.fit_check(f"{dims[k]} == {gd_} or {dims[k]} == 1",
                          f"axis {k} cannot be summed to the target size")
        if like.shape[k] is None:
            s = ctx.fresh("s")
            ctx.line(f"{s} = 0 if {dims[k]} == 1 else 1")
            strides[k] = s
    with ctx.loops([f"{gs}.shape[{j}]" for j in range(g.ndim)]) as idx:
        sub = []
        for k in range(like.ndim):
            if like.shape[k] == 1:
                sub.append("0")
            elif k in strides:
                sub.append(f"{idx[k + lead]} * {strides[k]}")
            else:
                sub.append(idx[k + lead])
        target = f"{acc}[{', '.join(sub)}]" if sub else f"{acc}[()]"
        src = f"{gs}[{', '.join(idx)}]" if idx else f"{gs}[()]"
        ctx.line(f"{target} += {src}")
    store_cast(ctx, out, acc, acc_dtype)
