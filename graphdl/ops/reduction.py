"""Reductions: sum, mean, max, min, argmax, argmin (and the element count that
mean's gradient divides by)."""

import numpy as np

from .. import dtypes as _dt
from ..errors import ShapeError
from ..shapes import fmt
from .axes import broadcast_like, expand_dims
from .base import (
    OpDef,
    apply,
    as_tensor,
    checked_axes,
    checked_axis,
    register,
    require_float,
    shape_error,
)
from .elementwise import cast, equal


def _reduced_shape(shape, axes, keepdims):
    if keepdims:
        return tuple(1 if i in axes else d for i, d in enumerate(shape))
    return tuple(d for i, d in enumerate(shape) if i not in axes)


def _restore_axes(g, x, axes, keepdims):
    """Broadcast a reduced cotangent ``g`` back over ``x``'s shape."""
    if not keepdims and axes:
        g = expand_dims(g, axes)
    return broadcast_like(g, x)


class _Reduction(OpDef):
    def infer(self, x, axes, keepdims):
        return [(_reduced_shape(x.shape, axes, keepdims), self._dtype(x))]

    def _dtype(self, x):
        return x.dtype

    def label(self, node):
        a = node.attrs
        return f"{self.name}\naxis={list(a['axes'])}" + (", keepdims" if a["keepdims"] else "")


class Sum(_Reduction):
    """Sum over axes. Gradient: g broadcast back over the reduced axes."""

    name = "sum"
    reduction = True

    def _dtype(self, x):  # a sum of bools counts, as in NumPy
        return _dt.int64 if x.dtype == _dt.bool_ else x.dtype

    def forward(self, x, axes, keepdims):
        return np.sum(x, axis=axes, keepdims=keepdims)

    def vjp(self, node, g):
        a = node.attrs
        return [_restore_axes(g, node.inputs[0], a["axes"], a["keepdims"])]


SUM = register(Sum())


class Mean(_Reduction):
    """Mean over axes. Gradient: g broadcast back, divided by the count."""

    name = "mean"
    reduction = True

    def forward(self, x, axes, keepdims):
        return np.mean(x, axis=axes, keepdims=keepdims).astype(x.dtype)

    def vjp(self, node, g):
        x = node.inputs[0]
        a = node.attrs
        return [_restore_axes(g, x, a["axes"], a["keepdims"]) / count(x, a["axes"])]


MEAN = register(Mean())


class Max(_Reduction):
    """Max over axes. Gradient: to the maximal elements, split evenly among ties."""

    name = "max"
    reduction = True

    def forward(self, x, axes, keepdims):
        _require_nonempty(self.name, x.shape, axes)
        return np.max(x, axis=axes, keepdims=keepdims)

    def vjp(self, node, g):
        x, y = node.inputs[0], node.outputs[0]
        a = node.attrs
        hit = cast(equal(x, _restore_axes(y, x, a["axes"], a["keepdims"])), x.dtype)
        ties = _restore_axes(sum(hit, a["axes"], keepdims=True), x, a["axes"], True)
        return [_restore_axes(g, x, a["axes"], a["keepdims"]) * hit / ties]


MAX = register(Max())


class Min(Max):
    """Min over axes. Gradient: to the minimal elements, split evenly among ties."""

    name = "min"
    reduction = True

    def forward(self, x, axes, keepdims):
        _require_nonempty(self.name, x.shape, axes)
        return np.min(x, axis=axes, keepdims=keepdims)


MIN = register(Min())


class _ArgReduce(_Reduction):
    differentiable = False

    def _dtype(self, x):
        return _dt.int64

    def label(self, node):
        return f"{self.name}\naxis={node.attrs['axes'][0]}"


class Argmax(_ArgReduce):
    """Index of the largest element along one axis (int64). Not differentiable."""

    name = "argmax"

    def forward(self, x, axes, keepdims):
        _require_nonempty(self.name, x.shape, axes)
        return np.argmax(x, axis=axes[0], keepdims=keepdims).astype(np.int64)


ARGMAX = register(Argmax())


class Argmin(_ArgReduce):
    """Index of the smallest element along one axis (int64). Not differentiable."""

    name = "argmin"

    def forward(self, x, axes, keepdims):
        _require_nonempty(self.name, x.shape, axes)
        return np.argmin(x, axis=axes[0], keepdims=keepdims).astype(np.int64)


ARGMIN = register(Argmin())


#: reductions with no value over zero elements (sum is 0 there; mean is NaN, as NumPy)
_NEED_ELEMENTS = frozenset({"max", "min", "argmax", "argmin"})


def _require_nonempty(op_name, shape, axes, tensors=None):
    """max/min/argmax/argmin over an axis of size 0 have no value: a ShapeError."""
    empty = [a for a in axes if shape[a] == 0]
    if empty:
        message = (f"reduces over axis {empty[0]} of size 0 (shape {fmt(shape)}); an empty "
                   "axis has no maximum, minimum or index of one")
        if tensors:
            raise shape_error(op_name, message, tensors)
        raise ShapeError(f"{op_name}: {message}")


def _reduce(op, x, axis, keepdims, name, float_only=False):
    x = as_tensor(x)
    if float_only:
        require_float(op.name, x)
    axes = checked_axes(op.name, axis, x.ndim, [x])
    if op.name in _NEED_ELEMENTS:
        _require_nonempty(op.name, x.shape, axes, [x])
    return apply(op, [x], name=name, axes=axes, keepdims=bool(keepdims))


def _arg_reduce(op, x, axis, keepdims, name):
    """argmax/argmin take exactly one int axis (a float or a tuple is an error)."""
    x = as_tensor(x)
    return _reduce(op, x, checked_axis(op.name, axis, x.ndim, [x]), keepdims, name)


def sum(x, axis=None, keepdims=False, name=None):  # noqa: A001 (NumPy naming)
    """Sum of elements over ``axis`` (None = all, int, or tuple), like ``np.sum``."""
    return _reduce(SUM, x, axis, keepdims, name)


def mean(x, axis=None, keepdims=False, name=None):
    """Arithmetic mean over ``axis`` (None = all, int, or tuple), like ``np.mean``."""
    return _reduce(MEAN, x, axis, keepdims, name, float_only=True)


def max(x, axis=None, keepdims=False, name=None):  # noqa: A001
    """Maximum over ``axis``, like ``np.max``. Ties share the gradient equally."""
    return _reduce(MAX, x, axis, keepdims, name)


def min(x, axis=None, keepdims=False, name=None):  # noqa: A001
    """Minimum over ``axis``, like ``np.min``. Ties share the gradient equally."""
    return _reduce(MIN, x, axis, keepdims, name)


def argmax(x, axis=-1, keepdims=False, name=None):
    """Index of the maximum along one ``axis`` (int64); not differentiable."""
    return _arg_reduce(ARGMAX, x, axis, keepdims, name)


def argmin(x, axis=-1, keepdims=False, name=None):
    """Index of the minimum along one ``axis`` (int64); not differentiable."""
    return _arg_reduce(ARGMIN, x, axis, keepdims, name)


# -- shape plumbing used by gradient rules ------------------------------------------
class Count(OpDef):
    """Number of elements of ``x`` over ``axes`` as a scalar of x's dtype."""

    name = "count"

    def infer(self, x, axes):
        return [((), x.dtype)]

    def forward(self, x, axes):
        return np.asarray(np.prod([x.shape[a] for a in axes]), dtype=x.dtype)

    shape_only_inputs = (0,)

    def vjp(self, node, g):
        return [None]  # depends on the shape of x only


COUNT = register(Count())


def count(x, axes):
    """Element count over ``axes``: a constant when known statically, else an op."""
    dims = [x.shape[a] for a in axes]
    if None not in dims:
        return as_tensor(float(np.prod(dims)), dtype=x.dtype, like=x)
    return apply(COUNT, [x], axes=tuple(axes))
