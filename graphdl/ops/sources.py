"""Ops with no inputs: placeholders (fed), constants (baked in), variables (state)."""

import numpy as np

from .. import dtypes as _dt
from ..errors import GraphError, ShapeError
from ..graph import Tensor, get_default_graph
from ..shapes import as_shape, fmt
from .base import OpDef, register


class Placeholder(OpDef):
    """A value supplied at run time through ``feed_dict``."""

    name = "placeholder"
    source = "feed"

    def infer(self, shape, dtype):
        return [(shape, dtype)]

    def vjp(self, node, *grads):
        return []  # no inputs

    def label(self, node):
        return node.name.rsplit("/", 1)[-1]


PLACEHOLDER = register(Placeholder())


def placeholder(shape, dtype="float32", name=None):
    """A graph input fed at run time: ``x = gd.placeholder((None, 784))``.

    ``None`` in ``shape`` means "any size" (typically the batch). The feed must
    match the known dimensions and have a dtype castable to ``dtype`` within its
    kind (float64 data feeds a float32 placeholder; floats never feed an int one).
    """
    dtype = _dt.as_dtype(dtype)
    graph = get_default_graph()
    return graph.add_node(PLACEHOLDER, [], {"shape": as_shape(shape), "dtype": dtype},
                          [(as_shape(shape), dtype)], name=name or "placeholder").outputs[0]


class FrozenArray:
    """An immutable array as a node attribute: compared and hashed by dtype, shape and
    bytes, so nodes holding equal constants are equal (CSE, cache keys).

    ``array`` is a read-only copy; ``shape``, ``dtype``, ``ndim``, ``size`` mirror it.
    """

    __slots__ = ("array", "_hash")

    def __init__(self, value):
        arr = np.array(value)  # a copy: later changes to ``value`` are not seen
        arr.setflags(write=False)
        self.array = arr
        self._hash = None

    shape = property(lambda self: self.array.shape)
    dtype = property(lambda self: self.array.dtype)
    ndim = property(lambda self: self.array.ndim)
    size = property(lambda self: self.array.size)
    nbytes = property(lambda self: self.array.nbytes)

    def _key(self):
        return (self.array.dtype.str, self.array.shape, self.array.tobytes())

    def __hash__(self):
        if self._hash is None:
            self._hash = hash(self._key())
        return self._hash

    def __eq__(self, other):
        return isinstance(other, FrozenArray) and (
            self is other or (hash(self) == hash(other) and self._key() == other._key()))

    def __repr__(self):
        return f"FrozenArray({fmt(self.shape)} {self.dtype})"


class Constant(OpDef):
    """A value fixed at graph-build time (``value`` is a :class:`FrozenArray`)."""

    name = "constant"
    source = "constant"

    def infer(self, value):
        return [(value.shape, value.dtype)]

    def forward(self, value):
        return value.array

    def vjp(self, node, *grads):
        return []  # no inputs

    def label(self, node):
        v = node.attrs["value"].array
        if v.ndim == 0:  # "1", "0.1", not numpy's "1."
            return f"{v.item():.4g}"
        if v.size <= 4:
            return np.array2string(v, precision=4, separator=",").replace("\n", "")
        return f"const {fmt(v.shape)}"


CONSTANT = register(Constant())


def constant(value, dtype=None, name=None, graph=None):
    """A constant tensor holding ``value`` (copied; Python floats become float32)."""
    dtype = _dt.as_dtype(dtype) if dtype is not None else _dt.default_dtype_of(value)
    frozen = FrozenArray(np.asarray(value, dtype=dtype))
    graph = graph or get_default_graph()
    return graph.add_node(CONSTANT, [], {"value": frozen}, [(frozen.shape, frozen.dtype)],
                          name=name or "const").outputs[0]


class Initializer:
    """A recipe for a variable's first value: ``shape``, ``dtype`` and a sampler.

    Random initializers draw from the session's generator (seeded by
    ``Session(seed=...)`` or the graph's seed) unless given their own ``seed``.
    """

    def __init__(self, shape, dtype, sample, description):
        self.shape = as_shape(shape)
        self.dtype = _dt.as_dtype(dtype)
        self._sample = sample
        self.description = description

    def __call__(self, rng):
        value = np.asarray(self._sample(rng, self.shape), dtype=self.dtype)
        if value.shape != self.shape:
            raise ShapeError(f"initializer {self.description} produced shape "
                             f"{fmt(value.shape)}, expected {fmt(self.shape)}")
        return value

    def __repr__(self):
        return f"<Initializer {self.description} {fmt(self.shape)} {self.dtype}>"


class VariableOp(OpDef):
    """Reads a variable's current value from the session state."""

    name = "variable"
    source = "variable"
    stateful = True

    def infer(self, shape, dtype, trainable, initializer):
        return [(shape, dtype)]

    def vjp(self, node, *grads):
        return []  # no inputs

    def label(self, node):
        return node.name.rsplit("/", 1)[-1]


VARIABLE = register(VariableOp())


class Variable(Tensor):
    """Trainable state: ``W = gd.Variable(np.zeros((4, 10), "float32"), name="W1")``.

    ``initial_value`` is an array-like (its dtype is kept; Python floats become
    float32 unless ``dtype`` says otherwise) or an :class:`Initializer` such as
    ``gd.initializers.glorot_uniform((784, 128))``. The value lives in each
    :class:`Session` and is initialized on first use; ``assign``,
    ``assign_add`` and ``assign_sub`` build update ops.
    """

    def __init__(self, initial_value, name=None, trainable=True, dtype=None):
        if isinstance(initial_value, Initializer):
            init = initial_value
            if dtype is not None and _dt.as_dtype(dtype) != init.dtype:
                init = Initializer(init.shape, dtype, init._sample, init.description)
        elif isinstance(initial_value, Tensor):
            raise GraphError("gd.Variable needs a concrete initial value (array or "
                             "initializer), not a symbolic tensor")
        else:
            dt = _dt.as_dtype(dtype) if dtype is not None else _dt.default_dtype_of(
                initial_value)
            value = np.array(initial_value, dtype=dt)
            init = Initializer(value.shape, dt, lambda rng, shape, v=value: v.copy(),
                               "value")
        self.initializer = init
        self.trainable = bool(trainable)
        attrs = {"shape": init.shape, "dtype": init.dtype, "trainable": self.trainable,
                 "initializer": init}
        get_default_graph().add_node(VARIABLE, [], attrs, VARIABLE.infer(**attrs),
                                     name=name or "Variable", make_output=self._bind)

    def _bind(self, node, index, shape, dtype):
        """Become output ``index`` of the read node being built (see Graph.add_node)."""
        Tensor.__init__(self, node, index, shape, dtype)
        return self

    def initial_value(self, rng):
        return self.initializer(rng)

    def assign(self, value, name=None):
        from .state import assign  # noqa: PLC0415 (state builds on sources)
        return assign(self, value, name=name)

    def assign_add(self, value, name=None):
        from .state import assign_add  # noqa: PLC0415
        return assign_add(self, value, name=name)

    def assign_sub(self, value, name=None):
        from .state import assign_sub  # noqa: PLC0415
        return assign_sub(self, value, name=name)

    def __repr__(self):
        return (f"<Variable {self.name!r} shape={fmt(self.shape)} dtype={self.dtype}"
                f"{'' if self.trainable else ' frozen'}>")


def trainable_variables(graph=None):
    """The trainable variables of ``graph`` (default: the current default graph), in
    creation order: what optimizers train when given no ``var_list``."""
    return (graph or get_default_graph()).trainable_variables()
