"""The lowered IR: a pure, functional copy of one Program that passes rewrite and
compiled backends render.

Where the graph IR has state (variable reads, assignments, groups, control
dependencies), the lowered IR has none of it:

* every value the program reads from outside is a *parameter* :class:`Value`
  (``kind`` = ``"feed"``, ``"variable"`` or ``"constant"``; ``ref`` is the fed
  graph Tensor, the :class:`~graphdl.ops.sources.Variable` or the ndarray);
* an assignment becomes ordinary ops computing the variable's new value
  (``assign_add(v, x)`` -> ``cast(add(current, x))``); the program ends with
  ``updates``, the final new value of each assigned variable, which the backend
  commits only after the whole run succeeded (a run is a transaction);
* groups and control dependencies only decided *which* nodes run: once lowered,
  what is live is what the fetches and the updates need.

The only op left with an effect is randomness (``dropout_mask``, ``op.stateful``):
passes never merge, fold or reorder stateful ops relative to each other, so
masks are drawn in graph order, as the reference backend draws them.

Passes never mutate a ``Program`` or graph ``Node``; they build or rewrite
:class:`LoweredProgram` objects. ``origin`` on each :class:`LOp` keeps the graph
node it came from, so errors and pictures can still name user-visible nodes.
"""

from ..shapes import fmt


class Value:
    """One array of the lowered program: static ``shape`` (``None`` = known at run
    time) and ``dtype``; produced by output ``index`` of ``producer`` (an
    :class:`LOp`), or a parameter (``producer`` is None, ``kind``/``ref`` say what)."""

    __slots__ = ("shape", "dtype", "producer", "index", "kind", "ref", "source")

    def __init__(self, shape, dtype, producer=None, index=0, kind=None, ref=None,
                 source=None):
        self.shape = tuple(shape)
        self.dtype = dtype
        self.producer = producer
        self.index = index
        self.kind = kind        # "feed" | "variable" | "constant" for parameters
        self.ref = ref          # the fed Tensor, the Variable, or the ndarray
        self.source = source    # the graph Tensor this value stands for, if any

    @property
    def is_param(self):
        return self.producer is None

    @property
    def ndim(self):
        return len(self.shape)

    @property
    def name(self):
        """The graph name this value stands for (what errors show), else its kind."""
        if self.source is not None:
            return self.source.name
        return getattr(self.ref, "name", None) or self.kind or self.producer.op.name

    def __repr__(self):
        what = self.kind if self.is_param else self.producer.op.name
        return f"<Value {what} {fmt(self.shape)} {self.dtype}>"


class LOp:
    """One op application: ``op`` (an OpDef), ``inputs`` (Values), ``attrs`` (a dict)
    and ``outputs`` (new Values, one per ``(shape, dtype)`` of ``out_types``)."""

    __slots__ = ("op", "inputs", "attrs", "outputs", "origin")

    def __init__(self, op, inputs, attrs, out_types, origin=None, sources=()):
        self.op = op
        self.inputs = tuple(inputs)
        self.attrs = dict(attrs)
        self.origin = origin  # the graph Node it came from (errors, pictures), or None
        sources = tuple(sources) + (None,) * (len(out_types) - len(sources))
        self.outputs = tuple(Value(s, d, self, i, source=src)
                             for i, ((s, d), src) in enumerate(zip(out_types, sources)))

    def __repr__(self):
        where = f" from {self.origin.name!r}" if self.origin is not None else ""
        return f"<LOp {self.op.name}{where}>"


def final(mapping, v):
    """Follow replacements ``mapping`` (Value -> Value) from ``v`` to the last one."""
    while v in mapping:
        v = mapping[v]
    return v


def constant_array(v):
    """The array of a Value produced by a ``constant`` op, else None."""
    p = v.producer
    return p.attrs["value"].array if p is not None and p.op.source == "constant" else None


def all_equal(v, value):
    """Whether ``v`` is a non-empty constant whose elements all equal ``value``."""
    c = constant_array(v)
    return c is not None and c.size > 0 and bool((c == value).all())


def make_op(op, inputs, attrs, origin=None):
    """A new LOp applying ``op`` to Values, its output types from ``op.infer``."""
    return LOp(op, inputs, attrs, op.infer(*inputs, **attrs), origin)


class Kernel:
    """One unit of generated code: what the fusion pass hands to the code generators.

    ``kind`` says how to render it:

    * ``"elementwise"``: ``ops`` are elementwise (``op.scalar`` is set), run as ONE loop
      nest over ``shape`` (the iteration shape, every op's output shape); inputs of a
      smaller shape broadcast by index arithmetic (:meth:`axis_map`);
    * ``"reduction"``: elementwise producers, then as last op one reduction
      (``op.reduction``: sum, mean, max, min) of the last producer's output, or of
      an input, over ``reduce_axes`` of ``shape`` (the reduction's *input* shape,
      iterated once; ``keepdims`` as the op says). Producers are iterated over
      ``shape`` and never recomputed: one used outside is also an output;
    * ``"matmul"``: ``ops[0]`` is a matmul (lowered attrs ``transpose_a``/``transpose_b``
      say to read an operand's last two axes swapped), followed by an elementwise
      epilogue over ``shape`` (the matmul's output shape): bias add, activation. The
      raw product is written to its own buffer (it has a slot in the buffer plan),
      then the epilogue runs as one loop nest reading it;
    * ``"op"``: one op of any other kind (conv, pooling, softmax, shape ops...),
      rendered by the backend's rule for that op (all of ``ops[0].outputs`` exist).

    ``inputs``: the Values read from outside the kernel (parameters or other kernels'
    outputs), in first-use order. ``outputs``: the Values produced here that a later
    kernel reads, that are fetched or that are variable updates (a fused value used only
    inside needs no buffer: a scalar in the loop body).

    Sizes unknown at build time (``None`` in ``shape``) come from the inputs at run
    time. Along such an axis an input whose dim is ``None`` is taken to have the
    iteration size; the generated code checks that and raises the reference's
    ``ShapeError`` (naming the node) otherwise.
    """

    __slots__ = ("kind", "ops", "inputs", "outputs", "shape", "reduce_axes", "keepdims")

    def __init__(self, kind, ops, inputs, outputs, shape, reduce_axes=(), keepdims=False):
        self.kind = kind
        self.ops = list(ops)
        self.inputs = list(inputs)
        self.outputs = list(outputs)
        self.shape = tuple(shape)
        self.reduce_axes = tuple(reduce_axes)
        self.keepdims = keepdims

    def axis_map(self, value):
        """How ``value`` (an input or a fused value) is indexed in the loop nest: one entry
        per dimension of ``value``, the iteration axis it follows (NumPy broadcasting
        aligns shapes on the right), or None where ``value`` has size 1 statically and is
        broadcast (always index 0). A ``None`` dim follows its axis (see the class doc).
        """
        offset = len(self.shape) - value.ndim
        return tuple(None if d == 1 and self.shape[offset + i] != 1 else offset + i
                     for i, d in enumerate(value.shape))

    def __repr__(self):
        return f"<Kernel {self.kind} {fmt(self.shape)} {[lop.op.name for lop in self.ops]}>"


class LoweredProgram:
    """What a compiled backend renders.

    ``params``: input Values in argument order (feeds in ``Program.feeds`` order,
    then variables in first-use order, then large constants).
    ``ops``: LOps in an order where each comes after its inputs' producers.
    ``fetches``: one Value per fetch of the Program (None for op fetches such as
    groups). ``updates``: ``(Variable, Value)`` pairs, the new value of each
    assigned variable, in graph order of the last assignment. An update Value may be
    a parameter itself (``assign(v, feed)``, ``assign(v, w)``) or, after folding, a
    constant op's output (``assign(v, 3.0)``): a backend must copy it before committing,
    so variables never alias feeds, constants or each other. Likewise a fetch may be a
    parameter or a constant (``x * 1`` simplifies to ``x``).
    ``kernels``: the :class:`Kernel` list once the fusion pass ran (else None): every
    op in exactly one kernel, kernels in execution order, ``ops`` reordered to match.
    ``buffers``: the buffer plan once it ran (else None), see :mod:`.buffers`.
    ``log``: ``(pass name, dump or None)`` pairs (dumps with ``optimize(log=True)`` or
    ``GRAPHDL_DEBUG``), for ``graphdl compile``.
    """

    def __init__(self, program, params, ops, fetches, updates):
        self.program = program
        self.params = list(params)
        self.ops = list(ops)
        self.fetches = list(fetches)
        self.updates = list(updates)
        self.kernels = None
        self.buffers = None
        self.log = []

    def substitute(self, mapping):
        """Replace every use of each Value key of ``mapping`` (op inputs, fetches,
        updates) by its value, following chains; types must match exactly."""
        if not mapping:
            return

        def final(v):
            while v in mapping:
                new = mapping[v]
                if new.shape != v.shape or new.dtype != v.dtype:
                    raise AssertionError(f"pass replaced {v} by {new}: types differ")
                v = new
            return v
        for lop in self.ops:
            if any(v in mapping for v in lop.inputs):
                lop.inputs = tuple(final(v) for v in lop.inputs)
        self.fetches = [None if v is None else final(v) for v in self.fetches]
        self.updates = [(var, final(v)) for var, v in self.updates]

    def consumers(self):
        """Value -> list of (LOp, input slot) reading it."""
        out = {}
        for lop in self.ops:
            for slot, v in enumerate(lop.inputs):
                out.setdefault(v, []).append((lop, slot))
        return out

    def live_values(self):
        """Values that are fetched or committed as variable updates."""
        live = [v for v in self.fetches if v is not None]
        live += [v for _, v in self.updates]
        return live

    def dump(self):
        """A readable listing, one line per op: ``%3 = add(%1, %2) (?, 4) float32``."""
        names = {}

        def name(v):
            if v not in names:
                names[v] = f"%{len(names)}"
            return names[v]

        lines = []
        for v in self.params:
            ref = getattr(v.ref, "name", None) or type(v.ref).__name__
            lines.append(f"{name(v)} = param {v.kind} {ref!s} {fmt(v.shape)} {v.dtype}")
        for lop in self.ops:
            outs = ", ".join(name(o) for o in lop.outputs)
            ins = ", ".join(name(v) for v in lop.inputs)
            attrs = {k: a for k, a in lop.attrs.items() if not k.startswith("_")}
            shown = "".join(f", {k}={_short(a)}" for k, a in attrs.items())
            types = "; ".join(f"{fmt(o.shape)} {o.dtype}" for o in lop.outputs)
            lines.append(f"{outs} = {lop.op.name}({ins}{shown}) {types}")
        for i, k in enumerate(self.kernels or ()):
            members = ", ".join(name(o) for lop in k.ops for o in lop.outputs)
            extra = f" reduce={list(k.reduce_axes)}" if k.kind == "reduction" else ""
            lines.append(f"kernel {i} {k.kind} {fmt(k.shape)}{extra}: {members} "
                         f"-> {', '.join(name(o) for o in k.outputs)}")
        fetched = ", ".join("none" if v is None else name(v) for v in self.fetches)
        lines.append(f"fetch {fetched}")
        for var, v in self.updates:
            lines.append(f"update {var.name} <- {name(v)}")
        return "\n".join(lines)

    def __repr__(self):
        return f"<LoweredProgram {len(self.params)} params, {len(self.ops)} ops>"


def _short(a):
    text = repr(a)
    return text if len(text) <= 30 else text[:27] + "..."
