"""Ops that add, remove or broadcast axes: expand_dims, squeeze, and the
broadcast/unbroadcast pair (broadcast_like, sum_to_like) that gradients use to
move cotangents between shapes. Shape and reduction ops both build on these.
"""

import numpy as np

from ..errors import ShapeError
from ..shapes import broadcast_shapes, fmt
from . import scalars as S
from .base import OpDef, apply, as_tensor, checked_axes, register, shape_error

__all__ = ["expand_dims", "squeeze"]


class ExpandDims(OpDef):
    """Insert size-1 axes at the given positions of the output."""

    name = "expand_dims"

    def infer(self, x, axes):
        shape = list(x.shape)
        for a in axes:
            shape.insert(a, 1)
        return [(tuple(shape), x.dtype)]

    def forward(self, x, axes):
        return np.expand_dims(x, axes)

    def vjp(self, node, g):
        return [squeeze(g, node.attrs["axes"])]


EXPAND_DIMS = register(ExpandDims())


def expand_dims(x, axis, name=None):
    """Insert size-1 axes (int or tuple, positions in the output), like ``np.expand_dims``."""
    x = as_tensor(x)
    n_new = len(axis) if isinstance(axis, (tuple, list)) else 1
    axes = checked_axes("expand_dims", axis, x.ndim + n_new, [x])
    return apply(EXPAND_DIMS, [x], name=name, axes=axes)


class Squeeze(OpDef):
    """Remove size-1 axes."""

    name = "squeeze"

    def infer(self, x, axes):
        for a in axes:
            if x.shape[a] not in (1, None):
                raise shape_error("squeeze", f"axis {a} has size {x.shape[a]}, not 1", [x])
        return [(tuple(d for i, d in enumerate(x.shape) if i not in axes), x.dtype)]

    def forward(self, x, axes):
        if any(x.shape[a] != 1 for a in axes):  # only possible for dims unknown at build time
            raise ShapeError(f"squeeze: axes {list(axes)} of run-time shape {fmt(x.shape)} "
                             "are not all of size 1")
        return np.squeeze(x, axes)

    def vjp(self, node, g):
        return [expand_dims(g, node.attrs["axes"])]


SQUEEZE = register(Squeeze())


def squeeze(x, axis=None, name=None):
    """Remove size-1 axes (all of them when ``axis`` is None), like ``np.squeeze``."""
    x = as_tensor(x)
    if axis is None:
        axes = tuple(i for i, d in enumerate(x.shape) if d == 1)
    else:
        axes = checked_axes("squeeze", axis, x.ndim, [x])
    return apply(SQUEEZE, [x], name=name, axes=axes)


class BroadcastLike(OpDef):
    """Broadcast ``x`` to the (runtime) shape of ``like``."""

    name = "broadcast_like"
    # elementwise over like's shape: x broadcasts into the loop, like is read for its
    # shape only, so fusion can put it in a loop instead of materializing it
    scalar = staticmethod(S.broadcast_like)

    def infer(self, x, like):
        shape = broadcast_shapes(x.shape, like.shape, op="broadcast_like")
        if len(shape) != like.ndim:
            raise shape_error("broadcast_like", "x has more dimensions than like", [x, like])
        return [(like.shape, x.dtype)]

    def forward(self, x, like):
        return np.broadcast_to(x, like.shape).copy()

    shape_only_inputs = (1,)

    def vjp(self, node, g):
        return [sum_to_like(g, node.inputs[0]), None]


BROADCAST_LIKE = register(BroadcastLike())


def broadcast_like(x, like, name=None):
    """``x`` broadcast to the shape ``like`` has at run time."""
    if x.shape == like.shape and None not in x.shape:
        return x
    return apply(BROADCAST_LIKE, [x, like], name=name)


class SumToLike(OpDef):
    """Sum ``g`` over broadcast axes so it takes the runtime shape of ``like``."""

    name = "sum_to_like"

    def infer(self, g, like):
        return [(like.shape, g.dtype)]

    def forward(self, g, like):
        return sum_to_shape(g, like.shape)

    shape_only_inputs = (1,)

    def vjp(self, node, gg):
        return [broadcast_like(gg, node.inputs[0]), None]


SUM_TO_LIKE = register(SumToLike())


def sum_to_shape(g, shape):
    """NumPy: reduce ``g`` to ``shape`` by summing the axes broadcasting added."""
    lead = g.ndim - len(shape)
    axes = tuple(range(lead)) + tuple(
        lead + i for i, d in enumerate(shape) if d == 1 and g.shape[lead + i] != 1)
    out = np.sum(g, axis=axes, keepdims=True) if axes else g
    return out.reshape(shape)


def sum_to_like(g, like, name=None):
    """``g`` summed over the axes broadcasting added relative to ``like``."""
    if g.shape == like.shape:
        return g
    return apply(SUM_TO_LIKE, [g, like], name=name)
