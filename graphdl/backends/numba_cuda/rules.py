"""The CUDA lowering table: for each non-elementwise OpDef, a rule that builds a
*launcher* for one LOp.

A rule is ``rule(lop, slot) -> launcher``; ``launcher(rt, *bufs)`` takes the
op's input :class:`~.runtime.Buf` objects and returns a tuple of output Bufs,
allocating them in the arena under ``(slot, k)``. Everything decided by attrs
and static types is decided when the rule runs (once per program); launchers
only read run-time shapes, check them, and launch. Elementwise ops are not here:
they become generated fused kernels (:mod:`.fused`).

This module holds the table and the shape/data-movement rules; the compute
rules (reductions, matmul, nn, conv, pooling, dropout) are in
:mod:`.rules_compute`.
"""

import numpy as np

from ...errors import GraphError, ShapeError
from ...ops.base import REGISTRY
from ...shapes import fmt
from .kernels.common import contiguous_strides
from .runtime import Buf, broadcast_strides, contiguous_copy, fill, strided_copy

RULES = {}


def rule(*names):
    """Register the decorated function as the rule of the ops called ``names``."""
    def deco(fn):
        for name in names:
            RULES[REGISTRY[name]] = fn
        return fn
    return deco


def supports(op):
    return op in RULES or op.scalar is not None


def where(lop, bufs):
    """'(node 'n'; inputs: (2, 3), (4,))' for run-time errors."""
    name = lop.origin.name if lop.origin is not None else lop.op.name
    shapes = ", ".join(fmt(b.shape) for b in bufs)
    return f"(node {name!r}; run-time input shapes: {shapes})"


def fail(lop, bufs, message, cls=ShapeError):
    raise cls(f"{lop.op.name}: {message} {where(lop, bufs)}")


# -- free views ---------------------------------------------------------------------
@rule("stop_gradient")
def _identity(lop, slot):
    return lambda rt, x: (x,)


@rule("reshape")
def _reshape(lop, slot):
    target = lop.attrs["shape"]

    def launch(rt, x):
        shape = list(target)
        if -1 in shape:
            rest = int(np.prod([d for d in shape if d != -1]))
            if rest == 0 or x.size % rest:
                fail(lop, [x], f"cannot reshape {fmt(x.shape)} into {fmt(target)}")
            shape[shape.index(-1)] = x.size // rest
        if int(np.prod(shape)) != x.size:
            fail(lop, [x], f"cannot reshape {fmt(x.shape)} ({x.size} elements) into "
                 f"{fmt(target)} at run time")
        return (x.view(shape),)
    return launch


@rule("reshape_like")
def _reshape_like(lop, slot):
    def launch(rt, x, like):
        if like.size != x.size:
            fail(lop, [x, like], "sizes differ")
        return (x.view(like.shape),)
    return launch


@rule("flatten")
def _flatten(lop, slot):
    return lambda rt, x: (x.view((x.shape[0], int(np.prod(x.shape[1:], dtype=np.int64)))),)


@rule("expand_dims")
def _expand_dims(lop, slot):
    axes = lop.attrs["axes"]

    def launch(rt, x):
        shape = list(x.shape)
        for a in axes:
            shape.insert(a, 1)
        return (x.view(shape),)
    return launch


@rule("squeeze")
def _squeeze(lop, slot):
    axes = lop.attrs["axes"]

    def launch(rt, x):
        if any(x.shape[a] != 1 for a in axes):
            fail(lop, [x], f"axes {list(axes)} of run-time shape {fmt(x.shape)} are not "
                 "all of size 1")
        return (x.view([d for i, d in enumerate(x.shape) if i not in axes]),)
    return launch


@rule("labels_like")
def _labels_like(lop, slot):
    loss = lop.attrs["loss"]

    def launch(rt, labels, logits):
        if labels.shape != logits.shape:
            raise ShapeError(f"{loss}: labels of run-time shape {fmt(labels.shape)} do not "
                             f"match logits of shape {fmt(logits.shape)}")
        return (labels,)
    return launch


@rule("ensure_shape_like")
def _ensure_shape_like(lop, slot):
    what = lop.attrs["what"]

    def launch(rt, x, like):
        if x.shape != like.shape:
            raise ShapeError(f"{what}: shape {fmt(x.shape)} at run time, expected "
                             f"{fmt(like.shape)}")
        return (x,)
    return launch


@rule("constant")
def _constant(lop, slot):
    value = lop.attrs["value"]
    value = np.asarray(getattr(value, "array", value), order="C")  # a FrozenArray
    uploaded = {}

    def launch(rt):
        if "buf" not in uploaded:  # once per program, then resident
            from numba import cuda  # noqa: PLC0415
            data = cuda.to_device(value.reshape(-1) if value.size else np.zeros(1, value.dtype))
            uploaded["buf"] = Buf(data, value.shape)
        return (uploaded["buf"],)
    return launch


# -- copies -------------------------------------------------------------------------
def _broadcast(lop, slot, x, shape):
    lead = len(shape) - len(x.shape)
    if lead < 0 or any(d not in (1, t) for d, t in zip(x.shape, shape[lead:])):
        fail(lop, [x], f"cannot broadcast {fmt(x.shape)} to {fmt(shape)} at run time")
    return None


@rule("broadcast_to")
def _broadcast_to(lop, slot):
    shape = tuple(lop.attrs["shape"])

    def launch(rt, x):
        _broadcast(lop, slot, x, shape)
        return (contiguous_copy(rt, (slot, 0), x, shape, 0, broadcast_strides(x.shape, shape)),)
    return launch


@rule("broadcast_like")
def _broadcast_like(lop, slot):
    def launch(rt, x, like):
        _broadcast(lop, slot, x, like.shape)
        return (contiguous_copy(rt, (slot, 0), x, like.shape, 0,
                                broadcast_strides(x.shape, like.shape)),)
    return launch


@rule("transpose")
def _transpose(lop, slot):
    perm = lop.attrs["perm"]

    def launch(rt, x):
        strides = contiguous_strides(x.shape)
        shape = tuple(x.shape[p] for p in perm)
        return (contiguous_copy(rt, (slot, 0), x, shape, 0, tuple(strides[p] for p in perm)),)
    return launch


def key_view(lop, bufs, shape, key):
    """(offset, shape, strides) of ``x[key]`` for a contiguous x of ``shape``."""
    strides = contiguous_strides(shape)
    off, out_shape, out_strides, axis = 0, [], [], 0
    for k in key:
        if k[0] == "new":
            out_shape.append(1)
            out_strides.append(0)
            continue
        dim, step = shape[axis], strides[axis]
        axis += 1
        if k[0] == "int":
            if not -dim <= k[1] < dim:
                fail(lop, bufs, f"index {k[1]} is out of range for axis {axis - 1} with "
                     f"run-time size {dim}")
            off += (k[1] % dim) * step
        else:
            start, stop, stride = slice(*k[1:]).indices(dim)
            n = len(range(start, stop, stride))
            if n:
                off += start * step
            out_shape.append(n)
            out_strides.append(step * stride)
    return off, tuple(out_shape) + tuple(shape[axis:]), tuple(out_strides) + strides[axis:]


@rule("getitem")
def _getitem(lop, slot):
    key = lop.attrs["key"]

    def launch(rt, x):
        off, shape, strides = key_view(lop, [x], x.shape, key)
        return (contiguous_copy(rt, (slot, 0), x, shape, off, strides),)
    return launch


@rule("getitem_grad")
def _getitem_grad(lop, slot):
    key = lop.attrs["key"]
    dtype = lop.outputs[0].dtype

    def launch(rt, g, like):
        out = fill(rt, (slot, 0), like.shape, dtype, 0)
        off, shape, strides = key_view(lop, [g, like], like.shape, key)
        if shape != g.shape:
            fail(lop, [g, like], f"g has shape {fmt(g.shape)}, the slice {fmt(shape)}")
        strided_copy(out, off, strides, g, 0, contiguous_strides(shape), shape)
        return (out,)
    return launch


def _along(shape, axis, start):
    """(offset, strides) of the sub-block starting at ``start`` along ``axis`` of a
    contiguous array of ``shape``."""
    strides = contiguous_strides(shape)
    return start * strides[axis], strides


def _same_except(lop, bufs, skip):
    for axis, dims in enumerate(zip(*[b.shape for b in bufs])):
        if axis != skip and len(set(dims)) > 1:
            fail(lop, bufs, f"sizes differ along axis {axis} at run time")


@rule("concat")
def _concat(lop, slot):
    axis = lop.attrs["axis"]

    def launch(rt, *xs):
        _same_except(lop, xs, axis)
        shape = list(xs[0].shape)
        shape[axis] = sum(x.shape[axis] for x in xs)
        out = rt.alloc((slot, 0), shape, xs[0].dtype)
        start = 0
        for x in xs:
            off, strides = _along(shape, axis, start)
            strided_copy(out, off, strides, x, 0, contiguous_strides(x.shape), x.shape)
            start += x.shape[axis]
        return (out,)
    return launch


@rule("stack")
def _stack(lop, slot):
    axis = lop.attrs["axis"]

    def launch(rt, *xs):
        _same_except(lop, xs, None)
        shape = list(xs[0].shape)
        shape.insert(axis, len(xs))
        out = rt.alloc((slot, 0), shape, xs[0].dtype)
        piece = tuple(shape[:axis]) + (1,) + tuple(shape[axis + 1:])
        for i, x in enumerate(xs):
            off, strides = _along(shape, axis, i)
            strided_copy(out, off, strides, x, 0, contiguous_strides(piece), piece)
        return (out,)
    return launch


def _split_pieces(lop, slot, rt, x, axis, sizes):
    outs, start = [], 0
    for k, size in enumerate(sizes):
        shape = x.shape[:axis] + (size,) + x.shape[axis + 1:]
        off, strides = _along(x.shape, axis, start)
        outs.append(contiguous_copy(rt, (slot, k), x, shape, off, strides))
        start += size
    return tuple(outs)


@rule("split")
def _split(lop, slot):
    axis, sections = lop.attrs["axis"], lop.attrs["sections"]

    def launch(rt, x):
        dim = x.shape[axis]
        if isinstance(sections, int):
            if dim % sections:
                fail(lop, [x], f"axis {axis} of run-time size {dim} cannot be split into "
                     f"{sections} equal parts")
            sizes = [dim // sections] * sections
        else:
            if sum(sections) != dim:
                fail(lop, [x], f"sizes {list(sections)} do not add up to the run-time size "
                     f"{dim} of axis {axis}")
            sizes = sections
        return _split_pieces(lop, slot, rt, x, axis, sizes)
    return launch


@rule("split_like")
def _split_like(lop, slot):
    axis = lop.attrs["axis"]

    def launch(rt, g, *likes):
        sizes = [like.shape[axis] for like in likes]
        if sum(sizes) != g.shape[axis]:
            fail(lop, [g, *likes], "the pieces do not add up to g along the axis")
        return _split_pieces(lop, slot, rt, g, axis, sizes)
    return launch


@rule("count")
def _count(lop, slot):
    axes, dtype = lop.attrs["axes"], lop.outputs[0].dtype

    def launch(rt, x):
        return (fill(rt, (slot, 0), (), dtype, np.prod([x.shape[a] for a in axes])),)
    return launch


def unsupported(lop):
    raise GraphError(f"the cuda backend has no lowering for op {lop.op.name!r}")


from . import rules_compute  # noqa: E402,F401  (registers the compute rules)
