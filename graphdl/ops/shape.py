"""Shape ops: reshape, flatten, broadcast_to, concat, stack, split, indexing,
one_hot and stop_gradient.

Static shapes may hold ``None`` (known only at run time), so gradient rules that
must restore an input's shape use "*_like" ops that read the shape of a
reference tensor at run time instead of baking a static shape into the graph.
"""

import operator

import numpy as np

from .. import dtypes as _dt
from ..errors import DTypeError, GraphError, ShapeError
from ..graph import Tensor
from ..shapes import fmt, num_elements
from .axes import broadcast_like, sum_to_like
from .base import (
    OpDef,
    apply,
    as_tensor,
    checked_axis,
    describe,
    input_error,
    register,
    shape_error,
)

__all__ = ["reshape", "flatten", "broadcast_to", "concat", "stack", "split", "getitem",
           "one_hot", "stop_gradient"]


def _index(value, what, tensors):
    """An int from anything with ``__index__`` (NumPy ints too); GraphError otherwise.

    ``what`` is the op name (and argument); the error also names the op's inputs.
    """
    if isinstance(value, (bool, np.bool_)):
        raise input_error(what, f"expected an int, got the bool {value!r}", tensors)
    try:
        return operator.index(value)
    except TypeError:
        raise input_error(what, f"expected an int, got {type(value).__name__} {value!r}",
                          tensors) from None


def _zeros_like(t):
    return broadcast_like(as_tensor(0.0, dtype=t.dtype, like=t), t)


def _as_tuple(out):
    """``apply`` returns a bare tensor for one output; multi-output callers want a tuple."""
    return out if isinstance(out, tuple) else (out,)


# -- reshape -----------------------------------------------------------------------
def _reshape_shape(x, shape):
    """Static result of reshaping ``x`` to ``shape`` (one -1 allowed); checks sizes."""
    target = int(np.prod([d for d in shape if d != -1]))
    size = num_elements(x.shape)
    bad = shape_error("reshape", f"cannot reshape {fmt(x.shape)} into {fmt(shape)}", [x])
    if -1 in shape:
        if size is None:
            return tuple(None if d == -1 else d for d in shape)
        if target == 0 or size % target:
            raise bad
        return tuple(size // target if d == -1 else d for d in shape)
    if size is not None and size != target:
        raise bad
    if size is None:
        # x holds (unknown count) * (product of its known dims) elements
        known = int(np.prod([d for d in x.shape if d is not None]))
        if (known == 0 and target != 0) or (known and target % known):
            raise bad
    return shape


class Reshape(OpDef):
    """Same elements in C order, new shape; one entry of ``shape`` may be -1."""

    name = "reshape"

    def infer(self, x, shape):
        return [(_reshape_shape(x, shape), x.dtype)]

    def forward(self, x, shape):
        try:
            return np.reshape(x, shape)
        except ValueError:  # only possible when x had unknown dims at build time
            raise ShapeError(f"reshape: cannot reshape {fmt(x.shape)} ({x.size} elements) "
                             f"into {fmt(shape)} at run time") from None

    def vjp(self, node, g):
        return [_reshape_back(g, node.inputs[0])]


RESHAPE = register(Reshape())


class ReshapeLike(OpDef):
    """``x`` reshaped to the run-time shape of ``like`` (gradients of reshapes)."""

    name = "reshape_like"

    def infer(self, x, like):
        return [(like.shape, x.dtype)]

    def forward(self, x, like):
        return np.reshape(x, like.shape)

    shape_only_inputs = (1,)

    def vjp(self, node, g):
        return [_reshape_back(g, node.inputs[0]), None]


RESHAPE_LIKE = register(ReshapeLike())


def _reshape_back(g, x):
    """``g`` reshaped to x's shape: static when known, else read from x at run time."""
    if None not in x.shape:
        return apply(RESHAPE, [g], shape=x.shape)
    return apply(RESHAPE_LIKE, [g, x])


class EnsureShapeLike(OpDef):
    """``x`` unchanged, after checking at run time that its shape is exactly ``like``'s.

    Used where a static check cannot decide because of ``None`` dims (the ``grad_ys``
    of ``gd.gradients``); a mismatch is a ShapeError, never a silent broadcast.
    """

    name = "ensure_shape_like"

    def infer(self, x, like, what):
        return [(tuple(d if d is not None else e for d, e in zip(like.shape, x.shape)),
                 x.dtype)]

    def forward(self, x, like, what):
        if x.shape != like.shape:
            raise ShapeError(f"{what}: shape {fmt(x.shape)} at run time, expected "
                             f"{fmt(like.shape)}")
        return x

    shape_only_inputs = (1,)

    def vjp(self, node, g):
        return [g, None]


ENSURE_SHAPE_LIKE = register(EnsureShapeLike())


def ensure_shape_like(x, like, what, name=None):
    """``x``, checked (statically where known, else at run time) to have ``like``'s shape.

    ``what`` names ``x`` in the error message.
    """
    if x.ndim != like.ndim or any(a is not None and b is not None and a != b
                                  for a, b in zip(x.shape, like.shape)):
        raise ShapeError(f"{what}: shape {fmt(x.shape)}, expected {fmt(like.shape)}")
    if None not in x.shape and None not in like.shape:
        return x
    return apply(ENSURE_SHAPE_LIKE, [x, like], name=name, what=what)


def reshape(x, shape, name=None):
    """Give ``x`` a new shape with the same elements, like ``np.reshape``.

    One entry of ``shape`` may be -1 (inferred); it is ``None`` statically when
    ``x`` has unknown dims: ``(None, 4, 5)`` reshaped to ``(-1, 20)`` is ``(None, 20)``.
    """
    x = as_tensor(x)
    shape = (shape,) if not isinstance(shape, (tuple, list)) else shape
    shape = tuple(_index(d, "reshape", [x]) for d in shape)
    if any(d < -1 for d in shape) or shape.count(-1) > 1:
        raise shape_error("reshape", f"bad target shape {shape}: dims must be >= 0, "
                          "with at most one -1", [x])
    return apply(RESHAPE, [x], name=name, shape=shape)


class Flatten(OpDef):
    """(N, d1, d2, ...) -> (N, d1*d2*...); N may be unknown."""

    name = "flatten"

    def infer(self, x):
        if x.ndim < 1:
            raise shape_error("flatten", "needs at least one dimension", [x])
        return [((x.shape[0], num_elements(x.shape[1:])), x.dtype)]

    def forward(self, x):
        # explicit size instead of -1 so that empty batches reshape too
        return np.reshape(x, (x.shape[0], int(np.prod(x.shape[1:]))))

    def vjp(self, node, g):
        return [_reshape_back(g, node.inputs[0])]


FLATTEN = register(Flatten())


def flatten(x, name=None):
    """Collapse every axis but the first: (N, ...) -> (N, prod(rest))."""
    return apply(FLATTEN, [as_tensor(x)], name=name)


# -- broadcast_to --------------------------------------------------------------------
class BroadcastTo(OpDef):
    """``x`` repeated along size-1 (or missing leading) axes to a fixed shape."""

    name = "broadcast_to"

    def infer(self, x, shape):
        lead = len(shape) - x.ndim
        # an unknown dim of x is accepted: it must be 1 or the target size at run time
        if lead < 0 or any(d not in (None, 1, t) for d, t in zip(x.shape, shape[lead:])):
            raise shape_error("broadcast_to", f"cannot broadcast {fmt(x.shape)} to "
                              f"{fmt(shape)}", [x])
        return [(shape, x.dtype)]

    def forward(self, x, shape):
        try:
            return np.broadcast_to(x, shape).copy()
        except ValueError:  # an unknown dim of x was neither 1 nor the target size
            raise ShapeError(f"broadcast_to: cannot broadcast {fmt(x.shape)} to {fmt(shape)} "
                             "at run time") from None

    def vjp(self, node, g):
        return [sum_to_like(g, node.inputs[0])]


BROADCAST_TO = register(BroadcastTo())


def broadcast_to(x, shape, name=None):
    """``x`` broadcast to ``shape`` (fully known) by NumPy rules, like ``np.broadcast_to``.

    Gradient: summed back over the broadcast axes.
    """
    x = as_tensor(x)
    shape = (shape,) if not isinstance(shape, (tuple, list)) else shape
    shape = tuple(_index(d, "broadcast_to", [x]) for d in shape)
    if any(d < 0 for d in shape):
        raise shape_error("broadcast_to", f"bad target shape {shape}", [x])
    return apply(BROADCAST_TO, [x], name=name, shape=shape)


# -- concat / stack / split ------------------------------------------------------------
def _merged_shape(op_name, xs, skip=None):
    """The common shape of ``xs`` (None where all are unknown), ignoring axis ``skip``."""
    if len({t.dtype for t in xs}) > 1:
        raise DTypeError(f"{op_name}: inputs must share one dtype, got {describe(xs)} "
                         "(use gd.cast)")
    if len({t.ndim for t in xs}) > 1:
        raise shape_error(op_name, "inputs have different ranks", xs)
    merged = []
    for axis, dims in enumerate(zip(*[t.shape for t in xs])):
        known = {d for d in dims if d is not None}
        if axis != skip and len(known) > 1:
            raise shape_error(op_name, f"sizes differ along axis {axis}: {sorted(known)}", xs)
        merged.append(known.pop() if len(known) == 1 else None)
    return merged


def _same_at_run_time(op_name, arrays, skip=None):
    """Run-time twin of ``_merged_shape`` for dims that were unknown at build time."""
    for axis, dims in enumerate(zip(*[a.shape for a in arrays])):
        if axis != skip and len(set(dims)) > 1:
            raise ShapeError(f"{op_name}: sizes differ along axis {axis} at run time: "
                             + ", ".join(fmt(a.shape) for a in arrays))


def _check_inputs(op_name, tensors):
    if isinstance(tensors, Tensor):
        raise input_error(op_name, "expected a list of tensors, got a single tensor",
                          [tensors])
    try:
        xs = list(tensors)  # any iterable: a list, a tuple from split, a generator
    except TypeError:
        xs = []
    if not xs:
        raise GraphError(f"{op_name}: expected a non-empty list of tensors, got {tensors!r}")
    return [as_tensor(t) for t in xs]


class Concat(OpDef):
    """Join tensors along an existing axis."""

    name = "concat"

    def infer(self, *xs, axis):
        shape = _merged_shape("concat", xs, skip=axis)
        dims = [t.shape[axis] for t in xs]
        shape[axis] = None if None in dims else sum(dims)
        return [(tuple(shape), xs[0].dtype)]

    def forward(self, *xs, axis):
        _same_at_run_time("concat", xs, skip=axis)
        return np.concatenate(xs, axis=axis)

    def vjp(self, node, g):
        # pieces sized like the inputs at run time (their axis sizes may be unknown)
        return list(_as_tuple(apply(SPLIT_LIKE, [g, *node.inputs], axis=node.attrs["axis"])))


CONCAT = register(Concat())


def concat(tensors, axis=0, name=None):
    """Join ``tensors`` along an existing ``axis``, like ``np.concatenate``.

    All other dimensions and the dtype must agree. Gradient: ``g`` split back.
    """
    xs = _check_inputs("concat", tensors)
    if any(t.ndim == 0 for t in xs):
        raise shape_error("concat", "scalars (rank 0) have no axis to join along "
                          "(use gd.stack)", xs)
    axis = checked_axis("concat", axis, xs[0].ndim, xs)
    return apply(CONCAT, xs, name=name, axis=axis)


class Stack(OpDef):
    """Join same-shaped tensors along a new axis."""

    name = "stack"

    def infer(self, *xs, axis):
        shape = _merged_shape("stack", xs)
        shape.insert(axis, len(xs))
        return [(tuple(shape), xs[0].dtype)]

    def forward(self, *xs, axis):
        _same_at_run_time("stack", xs)
        return np.stack(xs, axis=axis)

    def vjp(self, node, g):
        lead = (slice(None),) * node.attrs["axis"]
        return [lambda i=i: getitem(g, lead + (i,)) for i in range(len(node.inputs))]


STACK = register(Stack())


def stack(tensors, axis=0, name=None):
    """Join same-shaped ``tensors`` along a new ``axis``, like ``np.stack``."""
    xs = _check_inputs("stack", tensors)
    axis = checked_axis("stack", axis, xs[0].ndim + 1, xs)
    return apply(STACK, xs, name=name, axis=axis)


def _fill_and_concat(node, grads):
    """Split-like vjp: concat of the output cotangents, zeros for the missing ones."""
    filled = [g if g is not None else _zeros_like(o) for g, o in zip(grads, node.outputs)]
    return apply(CONCAT, filled, axis=node.attrs["axis"])


class Split(OpDef):
    """Cut a tensor along one axis into ``sections`` equal parts or parts of given sizes."""

    name = "split"

    def infer(self, x, axis, sections):
        dim = x.shape[axis]
        if isinstance(sections, int):
            sizes = [None if dim is None else dim // sections] * sections
        else:
            sizes = sections
        return [(x.shape[:axis] + (s,) + x.shape[axis + 1:], x.dtype) for s in sizes]

    def forward(self, x, axis, sections):
        if isinstance(sections, int):
            if x.shape[axis] % sections:  # only possible when the dim was unknown
                raise ShapeError(f"split: axis {axis} of run-time size {x.shape[axis]} "
                                 f"cannot be split into {sections} equal parts")
            return tuple(np.split(x, sections, axis=axis))
        if sum(sections) != x.shape[axis]:  # only possible when the dim was unknown
            raise ShapeError(f"split: sizes {list(sections)} do not add up to the run-time "
                             f"size {x.shape[axis]} of axis {axis}")
        return tuple(np.split(x, np.cumsum(sections)[:-1], axis=axis))

    def vjp(self, node, *grads):
        return [_fill_and_concat(node, grads)]


SPLIT = register(Split())


class SplitLike(OpDef):
    """Cut ``g`` along ``axis`` into pieces as long as ``likes`` are (concat's gradient)."""

    name = "split_like"

    def infer(self, g, *likes, axis):
        return [(t.shape, g.dtype) for t in likes]

    def forward(self, g, *likes, axis):
        return tuple(np.split(g, np.cumsum([t.shape[axis] for t in likes])[:-1], axis=axis))

    shape_only_inputs = slice(1, None)

    def vjp(self, node, *grads):
        return [_fill_and_concat(node, grads)] + [None] * (len(node.inputs) - 1)


SPLIT_LIKE = register(SplitLike())


def split(x, num_or_sizes, axis=0, name=None):
    """Split ``x`` along ``axis``; returns a tuple of tensors.

    ``num_or_sizes``: an int (that many equal parts, like ``np.split``) or a list
    of part sizes (like ``tf.split``) that must add up to the axis size.
    """
    x = as_tensor(x)
    axis = checked_axis("split", axis, x.ndim, [x])
    dim = x.shape[axis]
    if isinstance(num_or_sizes, (list, tuple)):
        sections = tuple(_index(s, "split", [x]) for s in num_or_sizes)
        if sections and min(sections) < 0:
            raise shape_error("split", f"sizes {list(sections)} must all be >= 0", [x])
        if not sections or (dim is not None and sum(sections) != dim):
            raise shape_error("split", f"sizes {list(sections)} do not add up to the size "
                              f"{dim} of axis {axis}", [x])
    else:
        sections = _index(num_or_sizes, "split", [x])
        if sections < 1 or (dim is not None and dim % sections):
            raise shape_error("split", f"axis {axis} of size {dim} cannot be split into "
                              f"{sections} equal parts", [x])
    return _as_tuple(apply(SPLIT, [x], name=name, axis=axis, sections=sections))


# -- indexing --------------------------------------------------------------------------
# A key is stored normalized, one hashable entry per index: ("int", i),
# ("slice", start, stop, step) or ("new",); Ellipsis is expanded into full slices.
def _normalize_key(x, key):
    key = key if isinstance(key, tuple) else (key,)
    for k in key:
        if isinstance(k, (Tensor, np.ndarray, list, tuple, bool, np.bool_)):
            raise input_error("getitem", f"index {k!r} is not supported; only ints, slices, "
                              "None and ... are (no tensor/array 'fancy' indexing: "
                              "use gd.one_hot or gd.where)", [x])
    if sum(k is Ellipsis for k in key) > 1:
        raise input_error("getitem", "an index can only have a single ellipsis ('...')", [x])
    used = sum(k is not None and k is not Ellipsis for k in key)
    if used > x.ndim:
        raise shape_error("getitem", f"too many indices ({used}) for {x.ndim} dimensions", [x])
    if Ellipsis not in key:
        key = key + (Ellipsis,)
    at = key.index(Ellipsis)
    key = key[:at] + (slice(None),) * (x.ndim - used) + key[at + 1:]
    out, axis = [], 0
    for k in key:
        if k is None:
            out.append(("new",))
            continue
        dim = x.shape[axis]
        if isinstance(k, slice):
            parts = tuple(None if v is None else _index(v, "getitem", [x]) for v in
                          (k.start, k.stop, k.step))
            if parts[2] == 0:
                raise shape_error("getitem", "slice step cannot be zero", [x])
            out.append(("slice",) + parts)
        else:
            i = _index(k, "getitem", [x])
            if dim is not None:
                if not -dim <= i < dim:
                    raise shape_error("getitem", f"index {i} is out of range for axis "
                                      f"{axis} with size {dim}", [x])
                i %= dim
            out.append(("int", i))
        axis += 1
    return tuple(out)


def _numpy_key(key):
    return tuple(None if k[0] == "new" else k[1] if k[0] == "int" else slice(*k[1:])
                 for k in key)


def _key_text(key):
    def one(k):
        if k[0] == "new":
            return "None"
        if k[0] == "int":
            return str(k[1])
        start, stop, step = ("" if v is None else str(v) for v in k[1:])
        return f"{start}:{stop}" + (f":{step}" if step else "")
    return "[" + ", ".join(one(k) for k in key) + "]"


class Getitem(OpDef):
    """Basic NumPy indexing: ints, slices (any step), None (new axis)."""

    name = "getitem"

    def infer(self, x, key):
        shape, axis = [], 0
        for k in key:
            if k[0] == "new":
                shape.append(1)
                continue
            dim = x.shape[axis]
            axis += 1
            if k[0] == "slice":
                shape.append(None if dim is None else len(range(dim)[slice(*k[1:])]))
        return [(tuple(shape) + x.shape[axis:], x.dtype)]

    def forward(self, x, key):
        axis = 0
        for k in key:  # ints on dims unknown at build time are checked here
            if k[0] == "int" and not -x.shape[axis] <= k[1] < x.shape[axis]:
                raise ShapeError(f"getitem: index {k[1]} is out of range for axis {axis} "
                                 f"with run-time size {x.shape[axis]}")
            axis += k[0] != "new"
        return x[_numpy_key(key)]

    def vjp(self, node, g):
        return [apply(GETITEM_GRAD, [g, node.inputs[0]], key=node.attrs["key"])]

    def label(self, node):
        return "getitem\n" + _key_text(node.attrs["key"])


GETITEM = register(Getitem())


class GetitemGrad(OpDef):
    """Zeros shaped like ``like`` with ``g`` written at ``key`` (getitem's gradient)."""

    name = "getitem_grad"

    def infer(self, g, like, key):
        return [(like.shape, g.dtype)]

    def forward(self, g, like, key):
        out = np.zeros(like.shape, dtype=g.dtype)
        out[_numpy_key(key)] = g  # basic indexing never repeats an element
        return out

    shape_only_inputs = (1,)

    def vjp(self, node, gg):
        return [apply(GETITEM, [gg], key=node.attrs["key"]), None]

    def label(self, node):
        return "getitem_grad\n" + _key_text(node.attrs["key"])


GETITEM_GRAD = register(GetitemGrad())


def getitem(x, key, name=None):
    """``x[key]`` with NumPy basic indexing: ints (negative too), slices with any
    start/stop/step, ``...`` and ``None``. ``x[1:3]``, ``x[:, i]``, ``x[..., -1]``,
    ``x[::-1]``. Out-of-range ints on known dims are a ShapeError at build time.
    Gradient: ``g`` written into zeros shaped like ``x``.
    """
    x = as_tensor(x)
    return apply(GETITEM, [x], name=name, key=_normalize_key(x, key))


# -- one_hot, stop_gradient --------------------------------------------------------------
class OneHot(OpDef):
    """Integer indices -> one-hot vectors along a new last axis of length ``depth``."""

    name = "one_hot"
    differentiable = False

    def infer(self, indices, depth, dtype):
        if not _dt.is_int(indices.dtype):
            raise input_error("one_hot", f"indices must be integers, got {indices.dtype} "
                              "(use gd.cast)", [indices], cls=DTypeError)
        return [(indices.shape + (depth,), dtype)]

    def forward(self, indices, depth, dtype):
        # out-of-range indices give an all-zero row, as in tf.one_hot
        return (indices[..., None] == np.arange(depth)).astype(dtype)

    def vjp(self, node, g):
        return [None]


ONE_HOT = register(OneHot())


def one_hot(indices, depth, dtype="float32", name=None):
    """One-hot encoding: shape ``indices.shape + (depth,)``; 1 where the last-axis
    position equals the index, else 0. Not differentiable (indices are integers).
    """
    indices = as_tensor(indices)
    depth = _index(depth, "one_hot", [indices])
    if depth < 0:
        raise shape_error("one_hot", f"depth must be >= 0, got {depth}", [indices])
    return apply(ONE_HOT, [indices], name=name, depth=depth, dtype=_dt.as_dtype(dtype))


class StopGradient(OpDef):
    """Identity whose gradient is zero: values pass, cotangents do not."""

    name = "stop_gradient"

    def infer(self, x):
        return [(x.shape, x.dtype)]

    def forward(self, x):
        return x

    def vjp(self, node, g):
        return [None]


STOP_GRADIENT = register(StopGradient())


def stop_gradient(x, name=None):
    """``x`` unchanged in the forward pass, treated as a constant by ``gradients``."""
    return apply(STOP_GRADIENT, [as_tensor(x)], name=name)
