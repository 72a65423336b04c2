"""How an op is defined, registered and applied.

Every op is one :class:`OpDef` subclass instance that holds, side by side:

1. ``infer``   — the shape and dtype rule, run at graph-build time;
2. ``forward`` — the NumPy reference implementation (the executable definition);
3. ``vjp``     — the gradient rule, written as graph-building code, so gradients
   are graphs too (they render, compile and differentiate again);
4. ``scalar``  — for elementwise ops, a plain Python scalar function compiled
   backends fuse into loops (``None`` elsewhere; contract in :mod:`.scalars`).

Each op is one instance, ``NAME = register(Name())`` (``MATMUL``, ``CAST``...);
elementwise builders also carry theirs (``gd.add.op``). ``apply(op, inputs,
**attrs)`` checks the inputs, runs ``infer`` and adds the
node to the graph. Adding an op = writing one OpDef (and one op-table entry in
``tests/optable``); nothing else has to change.
"""

import numpy as np

from .. import dtypes as _dt
from ..errors import DTypeError, GraphError, ShapeError
from ..graph import Tensor, get_default_graph
from ..shapes import fmt, normalize_axes, normalize_axis

REGISTRY = {}


class OpDef:
    """Base class of op definitions. Subclasses set ``name`` and override rules.

    Code outside ``ops/`` asks an op what it is through these flags, never by name:

    * ``differentiable`` / ``has_gradient(node)``: whether gradients flow through it
      (``cast`` only between float dtypes);
    * ``stateful``: touches session state or randomness (never merged or folded);
      ``random``: draws from the session's generator through ``sample(rng, ...)``;
    * ``source``: ``"feed"`` (placeholder), ``"variable"`` (a variable read) or
      ``"constant"`` for ops without inputs;
    * ``updates_variable`` and ``update_with``: assignments and the elementwise op
      combining ``(old, value)`` (None: the value replaces the old one);
    * ``is_group``: ``gd.group``, produces nothing and runs its control inputs;
    * ``selector_inputs``: inputs that only select (``where``'s condition);
    * ``shape_only_inputs``: inputs read only for their shape;
    * ``reduction``: reduces input 0 over ``attrs["axes"]`` (fusion may feed it);
    * ``scalar``: the scalar function of an elementwise op (see ``ops/scalars.py``).
    """

    name = None
    #: whether gradients can flow through this op (False: argmax, comparisons...)
    differentiable = True
    #: reads or writes session state or randomness: never merged, folded or pruned
    stateful = False
    #: draws from the session's random generator: instead of ``forward`` the op defines
    #: ``sample(rng, *arrays, **attrs)``, and backends pass the session's generator
    random = False
    #: what a source op (no inputs) provides: "feed" (a placeholder, supplied through
    #: ``feed_dict``; a run that needs it unfed is an error), "variable" (a read of
    #: session state) or "constant" (a value fixed at build time); None for other ops
    source = None
    #: assignment ops: input 0 is a Variable, input 1 the value; the op's output is
    #: the variable's new value, which the run stores
    updates_variable = False
    #: for assignment ops, the elementwise op computing the new value from
    #: ``(old, value)`` (add for assign_add); None: ``value`` replaces the old value
    update_with = None
    #: reduces input 0 over ``attrs["axes"]`` (``keepdims`` attr) by an associative
    #: accumulation (sum, mean, max, min): fusion may feed it elementwise producers
    reduction = False
    #: produces nothing and only makes its control inputs run (``gd.group``)
    is_group = False
    #: input slots that only *select* between other inputs (``where``'s condition): a
    #: value there without a gradient does not block gradients through the op
    selector_inputs = ()
    #: elementwise ops: the scalar function (see graphdl/ops/scalars.py for the
    #: contract: scalar inputs positionally, attrs by keyword, math.* only), which
    #: compiled backends fuse into loops; None for other ops
    scalar = None
    #: inputs read only for their shape (an int tuple or a slice): no gradient flows to
    #: them, so ``gradients`` does not count the op as depending on them
    shape_only_inputs = ()

    def infer(self, *inputs, **attrs):
        """Return a list of (shape, dtype), one per output. Raise ShapeError."""
        raise NotImplementedError(self.name)

    def forward(self, *arrays, **attrs):
        """NumPy reference: arrays in, one array (or a tuple for several outputs) out.

        Pure: state is the backends' business. Assignments compute the new value from
        ``(old, value)``; sources and groups have none (backends handle them by flag).
        """
        raise NotImplementedError(self.name)

    def has_gradient(self, node):
        """Whether gradients flow through this node: ``differentiable`` unless a rule
        depends on attrs (``cast`` has one only between floating-point dtypes)."""
        return self.differentiable

    def vjp(self, node, *grads):
        """Given output cotangents (None = zero), return one per input (None = zero)."""
        raise NotImplementedError(f"{self.name} defines no gradient rule")

    def label(self, node):
        """Short text for pictures: the op name and its key attributes."""
        shown = {k: v for k, v in node.attrs.items() if not k.startswith("_")}
        if not shown:
            return self.name
        return self.name + "\n" + ", ".join(f"{k}={_short(v)}" for k, v in shown.items())

    def __repr__(self):
        return f"<op {self.name}>"


def _short(v):
    if isinstance(v, np.ndarray):
        return f"array{fmt(v.shape)}"
    if isinstance(v, np.dtype):
        return v.name  # "float32", not "dtype('float32')"
    text = repr(v) if not isinstance(v, str) else v
    return text if len(text) <= 24 else text[:21] + "..."


def register(op):
    """Record an op definition (an OpDef instance) by name and return it.

    Each op is one instance, bound to its name in capitals beside its class:
    ``MATMUL = register(MatMul())``; ``REGISTRY["matmul"] is MATMUL``.
    """
    if op.name in REGISTRY:
        raise GraphError(f"op {op.name!r} is defined twice")
    REGISTRY[op.name] = op
    return op


def as_tensor(value, dtype=None, like=None):
    """A Tensor for ``value``: tensors pass through, anything else becomes a constant.

    ``like`` is a tensor whose dtype a bare Python number adopts (weak typing:
    ``x * 2`` keeps ``x`` float64, ``labels + 1`` keeps labels int).
    """
    if isinstance(value, Tensor):
        if dtype is not None and value.dtype != np.dtype(dtype):
            raise GraphError(f"tensor {value.name!r} has dtype {value.dtype}, "
                             f"expected {np.dtype(dtype)}")
        return value
    if dtype is None and like is not None and isinstance(value, (int, float, bool)) \
            and not isinstance(value, bool):
        if isinstance(value, int) or _dt.is_float(like.dtype):
            dtype = like.dtype
    from .sources import constant  # noqa: PLC0415 (sources imports this module)
    graph = like.graph if like is not None else None
    return constant(value, dtype=dtype, graph=graph)


def apply(op, inputs, name=None, **attrs):
    """Add one ``op`` node on ``inputs`` (tensors) to their graph; return its output(s)."""
    if isinstance(op, str):
        op = REGISTRY[op]
    graph = inputs[0].graph if inputs else get_default_graph()
    types = op.infer(*inputs, **attrs)
    node = graph.add_node(op, inputs, attrs, types, name=name)
    return node.outputs[0] if len(node.outputs) == 1 else node.outputs


def describe(tensors, names=None):
    """'x (3, 4) float32, y (4,) float32' — how errors name an op's inputs."""
    return ", ".join(f"{names[i] + '=' if names else ''}{t.name!r} {fmt(t.shape)} {t.dtype}"
                     for i, t in enumerate(tensors))


def input_error(op_name, message, tensors, names=None, cls=GraphError):
    """An error of class ``cls`` naming the op, the problem and the inputs with their shapes."""
    return cls(f"{op_name}: {message} (inputs: {describe(tensors, names)})")


def shape_error(op_name, message, tensors, names=None):
    """A ShapeError naming the op, the problem and the inputs with their shapes."""
    return input_error(op_name, message, tensors, names, ShapeError)


def _with_inputs(normalize, op_name, axis, rank, tensors):
    try:
        return normalize(axis, rank, op_name)
    except ShapeError as exc:  # re-raised so the message also names the inputs
        raise shape_error(op_name, str(exc).removeprefix(f"{op_name}: "), tensors) from None


def checked_axis(op_name, axis, rank, tensors):
    """``normalize_axis`` whose errors name the op's inputs with their shapes."""
    return _with_inputs(normalize_axis, op_name, axis, rank, tensors)


def checked_axes(op_name, axis, rank, tensors):
    """``normalize_axes`` (None, an int or a tuple) whose errors name the inputs."""
    return _with_inputs(normalize_axes, op_name, axis, rank, tensors)


def require_float(op_name, *tensors):
    """A DTypeError naming the op and its inputs unless every tensor is floating-point."""
    for t in tensors:
        if not _dt.is_float(t.dtype):
            raise input_error(op_name, f"expected a floating-point input, got {t.name!r} "
                              f"with dtype {t.dtype} (use gd.cast)", tensors, cls=DTypeError)
