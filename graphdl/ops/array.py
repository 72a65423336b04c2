"""Array creation and lookup: run-time shapes, filled arrays, zeros_like, gather.

``gd.shape(x)`` is the shape ``x`` has when the graph runs (an int64 vector), so
arrays whose size depends on the batch can be built without knowing it:
``gd.zeros((gd.shape(x)[0], 16))`` is a zero state for any batch size.
``gather`` picks slices by integer index (an embedding lookup); its gradient
adds the cotangent rows back onto the picked rows (repeats accumulate).
"""

import numpy as np

from .. import dtypes as _dt
from ..errors import DTypeError, GraphError
from ..graph import Tensor
from ..shapes import fmt
from .axes import broadcast_like
from .base import OpDef, apply, as_tensor, checked_axis, input_error, register, shape_error

__all__ = ["shape", "fill", "zeros", "ones", "zeros_like", "ones_like", "gather",
           "embedding_lookup"]


# -- run-time shapes and filled arrays ------------------------------------------------
class Shape(OpDef):
    """The run-time shape of ``x`` as an int64 vector of length x.ndim."""

    name = "shape"
    shape_only_inputs = (0,)
    differentiable = False

    def infer(self, x):
        return [((x.ndim,), _dt.int64)]

    def forward(self, x):
        return np.array(x.shape, dtype=np.int64)

    def vjp(self, node, g):
        return [None]
SHAPE = register(Shape())


def shape(x, name=None):
    """The shape of ``x`` when the graph runs: an int64 vector (x.ndim,).

    ``gd.shape(x)[0]`` is the batch size even when the static shape says ``?``.
    Not differentiable (it depends on x's shape only).
    """
    return apply(SHAPE, [as_tensor(x)], name=name)


class Fill(OpDef):
    """An array of ``dims`` filled with ``value``; dims given as ``None`` in the attr
    come from the scalar int inputs, in order (sizes known only at run time)."""

    name = "fill"
    differentiable = False

    def infer(self, *sizes, dims, value, dtype):
        return [(dims, dtype)]

    def forward(self, *sizes, dims, value, dtype):
        it = iter(sizes)
        full = tuple(int(next(it)) if d is None else d for d in dims)
        if any(d < 0 for d in full):
            raise GraphError(f"fill: negative dimension in run-time shape {full}")
        return np.full(full, value, dtype=dtype)

    def vjp(self, node, g):
        return [None] * len(node.inputs)

    def label(self, node):
        return f"fill {node.attrs['value']:g}\n{fmt(node.attrs['dims'])}"
FILL = register(Fill())


def _static_size(t):
    """The value of scalar int tensor ``t`` when it is known at build time: an entry of
    ``shape(x)`` for a dim of x known statically, or a constant; else None."""
    node = t.node
    if node.op.name == "constant":
        return int(node.attrs["value"])
    if node.op.name == "getitem" and node.inputs[0].node.op.name == "shape":
        key = node.attrs["key"]
        if len(key) == 1 and key[0][0] == "int":
            return node.inputs[0].node.inputs[0].shape[key[0][1]]
    return None


def _dims(shape_, op):
    """(static dims with None for run-time sizes, the scalar int tensors supplying them)."""
    if isinstance(shape_, Tensor):
        if shape_.ndim != 1 or shape_.shape[0] is None or not _dt.is_int(shape_.dtype):
            raise input_error(op, "a shape tensor must be an int vector of known length",
                              [shape_], cls=DTypeError)
        shape_ = [shape_[i] for i in range(shape_.shape[0])]
    if isinstance(shape_, (int, np.integer)):
        shape_ = (shape_,)
    dims, sizes = [], []
    for d in shape_:
        if isinstance(d, Tensor):
            if d.ndim != 0 or not _dt.is_int(d.dtype):
                raise input_error(op, "a size given as a tensor must be an int scalar", [d],
                                  cls=DTypeError)
            known = _static_size(d)
            dims.append(known)
            if known is None:
                sizes.append(d)
        elif isinstance(d, (int, np.integer)) and not isinstance(d, bool) and d >= 0:
            dims.append(int(d))
        else:
            raise GraphError(f"{op}: sizes must be non-negative ints or int scalar tensors, "
                             f"got {d!r}")
    return tuple(dims), sizes


def fill(shape_, value, dtype="float32", name=None):
    """An array of shape ``shape_`` with every element ``value``.

    ``shape_``: ints and int scalar tensors (``(gd.shape(x)[0], 16)``) or an int
    vector tensor such as ``gd.shape(x)``; tensor sizes are ``?`` statically.
    """
    dims, sizes = _dims(shape_, "fill")
    dtype = _dt.as_dtype(dtype)
    return apply(FILL, sizes, name=name, dims=dims, value=dtype.type(value).item(),
                 dtype=dtype)


def zeros(shape_, dtype="float32", name=None):
    """Zeros of shape ``shape_`` (ints and/or int scalar tensors; see :func:`fill`)."""
    return fill(shape_, 0, dtype, name=name)


def ones(shape_, dtype="float32", name=None):
    """Ones of shape ``shape_`` (ints and/or int scalar tensors; see :func:`fill`)."""
    return fill(shape_, 1, dtype, name=name)


def _filled_like(x, value, dtype, name):
    x = as_tensor(x)
    dtype = _dt.as_dtype(dtype) if dtype is not None else x.dtype
    return broadcast_like(as_tensor(np.array(value, dtype), like=x), x, name=name)


def zeros_like(x, dtype=None, name=None):
    """Zeros with the run-time shape of ``x`` (and its dtype unless given).
    No gradient flows to x (it reads x's shape only)."""
    return _filled_like(x, 0, dtype, name)


def ones_like(x, dtype=None, name=None):
    """Ones with the run-time shape of ``x`` (and its dtype unless given).
    No gradient flows to x (it reads x's shape only)."""
    return _filled_like(x, 1, dtype, name)


# -- gather ------------------------------------------------------------------------------
def _check_range(op, indices, size, axis):
    if indices.size and (indices.min() < -size or indices.max() >= size):
        bad = indices[(indices < -size) | (indices >= size)]
        raise GraphError(f"{op}: index {int(bad.flat[0])} is out of range for axis {axis} "
                         f"with size {size}")


def _at(axis, indices):
    return (slice(None),) * axis + (indices,)


class Gather(OpDef):
    """Slices of ``params`` along ``axis`` picked by integer ``indices``."""

    name = "gather"

    def infer(self, params, indices, axis):
        return [(params.shape[:axis] + indices.shape + params.shape[axis + 1:],
                 params.dtype)]

    def forward(self, params, indices, axis):
        _check_range("gather", indices, params.shape[axis], axis)
        return np.take(params, indices, axis=axis)

    def vjp(self, node, g):
        params, indices = node.inputs
        return [apply(GATHER_GRAD, [g, indices, params], axis=node.attrs["axis"]), None]

    def label(self, node):
        return f"gather\naxis={node.attrs['axis']}"
GATHER = register(Gather())


class GatherGrad(OpDef):
    """Zeros shaped like ``like`` with the slices of ``g`` added at ``indices`` along
    ``axis`` (repeated indices accumulate): gather's gradient."""

    name = "gather_grad"
    shape_only_inputs = (2,)

    def infer(self, g, indices, like, axis):
        return [(like.shape, g.dtype)]

    def forward(self, g, indices, like, axis):
        out = np.zeros(like.shape, dtype=g.dtype)
        np.add.at(out, _at(axis, indices), g)
        return out

    def vjp(self, node, gg):
        g, indices, like = node.inputs
        return [gather(gg, indices, axis=node.attrs["axis"]), None, None]
GATHER_GRAD = register(GatherGrad())


def gather(params, indices, axis=0, name=None):
    """``np.take(params, indices, axis)``: shape params.shape[:axis] + indices.shape +
    params.shape[axis+1:]. ``indices`` are ints (negative count from the end);
    out-of-range indices raise at run time. Gradient: g added back onto the picked
    slices of params (repeats accumulate); none for indices.
    """
    params, indices = as_tensor(params), as_tensor(indices)
    if not _dt.is_int(indices.dtype):
        raise input_error("gather", f"indices must be integers, got dtype {indices.dtype}",
                          [params, indices], ["params", "indices"], cls=DTypeError)
    if params.ndim == 0:
        raise shape_error("gather", "params must have at least one axis", [params, indices])
    axis = checked_axis("gather", axis, params.ndim, [params, indices])
    return apply(GATHER, [params, indices], name=name, axis=axis)


def embedding_lookup(params, ids, name=None):
    """Rows of the embedding matrix ``params`` (vocab, dim) for integer ``ids`` (any
    shape): result ids.shape + (dim,). ``gather(params, ids, axis=0)``."""
    return gather(params, ids, axis=0, name=name)
