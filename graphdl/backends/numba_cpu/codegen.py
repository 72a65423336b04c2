"""LoweredProgram -> one Python module whose entry function Numba compiles.

The module holds a single ``@njit(cache=True)`` function ``program(...)`` taking
the program's parameters (feeds, variables, large constants; the random generator
when a dropout mask is drawn) and returning its fetched values and the new values
of assigned variables, so one training step is one native call. Every op becomes
inline code written by its rule in the lowering table (``kernels/*.py``): loops for
elementwise, reduction and softmax ops, ``np.dot`` for matmul, calls into the kernel
library for convolutions and pooling.

No size is written into the source unless the lowered IR knows it statically;
unknown (``None``) dims are read from the arrays and checked where ops meet, so one
compiled program serves every batch size. Run-time checks raise
``ValueError(ERROR_MARK, code, *values)``; :class:`Generated` maps the code back to
the graphdl error class, the op and the node (see :meth:`Generated.error`).
"""

from bisect import bisect_left
from contextlib import contextmanager

import numpy as np

from ...errors import ShapeError
from ...shapes import fmt
from ..numba_common.codegen import ScalarFunctions, Source, dtype_name, literal
from . import split as splitting

ERROR_MARK = "graphdl-run-time-check"
#: how the generated module compiles scalar functions: shared, disk-cached dispatchers
#: with IEEE float semantics (see kernels/scalar_jit.py)
JIT_HELPER = "jitted"


#: scalar constants (0-d, numeric) are written into the source as literals; larger
#: constants are passed as arguments (Numba would embed them and stop caching)
PRELUDE = """\
import math

import numpy as np
from numba import njit

from graphdl.backends.numba_cpu.kernels.alloc import empty, full, zeros
from graphdl.backends.numba_cpu.kernels.scalar_jit import jitted

ERROR_MARK = {mark!r}
"""


class Generated:
    """The generated source and what the Python side needs to call it."""

    def __init__(self, source, params, constants, fetches, updates, errors, line_ops,
                 uses_rng):
        self.source = source
        self.params = params          # Values passed first, in lp.params order
        self.constants = constants    # arrays passed after the params
        self.fetches = fetches        # per fetch: ("out", i) | ("param", j) | ("const", a) | None
        self.updates = updates        # (Variable, ("out", i) | ("param", j), copy?)
        self.errors = errors          # code -> (error class, LOp, message template)
        self.line_ops = line_ops      # (first line, LOp), ascending
        self.uses_rng = uses_rng
        self.scalar_files = []        # sources of the scalar functions called
        self.kernels = ()             # (name, dtype) library kernel variants called
        # indices of results that are arrays the call allocated (never views of its
        # arguments or of each other); an update ("inplace", j) was written into
        # argument j, a variable's array
        self.fresh_outs = frozenset()

    def error(self, args):
        """The graphdl error for ``ValueError(ERROR_MARK, code)`` args (without the
        run-time values; the backend prefers the reference's own message)."""
        cls, lop, message = self.errors[args[1]]
        return cls(f"{message} {where(lop)}")

    def op_at_line(self, line):
        """The LOp whose code holds ``line`` of the source (None outside every op)."""
        found = None
        for first, lop in self.line_ops:
            if first > line:
                break
            found = lop
        return found


def node_name(lop):
    return lop.origin.name if lop.origin is not None else lop.op.name


def where(lop):
    """'(node 'dense/add'; inputs: 'x' (None, 3) float32, ...)' for messages."""
    inputs = ", ".join(f"{v.name!r} {fmt(v.shape)} {v.dtype}" for v in lop.inputs)
    return f"(node {node_name(lop)!r}; inputs: {inputs})"


class Context:
    """What a lowering rule sees: names of values, dims, loops, allocation, checks."""

    def __init__(self, lp):
        self.lp = lp
        self.src = Source()
        self.scalars = ScalarFunctions(JIT_HELPER, inline_into=self)
        self.names = {}
        self.literals = {}     # Value -> source literal (scalar constants)
        self.const_args = []   # (Value, array) passed as arguments
        self.errors = []
        self.uses_rng = False
        self.aliases = set()   # Values that may share memory with a parameter
        self.lop = None        # the LOp being lowered (for error messages)
        self.imports = set()   # (module, names) the generated module imports
        self.kernels = set()   # (name, dtype) library kernel variants called
        self.dims = {}         # Value -> per-axis source expression (int or a name)
        self.in_place = {}     # update Value -> variable parameter written in place
        self.placed = set()    # update Values that were written in place
        self.allocated = set()  # Values in arrays allocated by this call (no views)
        self.done = set()      # LOps already lowered together with an earlier one

    # -- names and elements ----------------------------------------------------------
    def name(self, v):
        if v in self.literals:
            raise TypeError(f"internal: {v!r} is a literal, not an array")
        return self.names[v]

    def out(self, index=0):
        """The source name of output ``index`` of the LOp being lowered."""
        return self.names[self.lop.outputs[index]]

    def dim(self, v, k):
        """Axis ``k`` of ``v`` as source: its static size, or a name holding the run-time
        size. Equal names mean sizes known to be equal (they come from one array)."""
        d = v.shape[k]
        if d is not None:
            return str(d)
        if v in self.dims:
            return self.dims[v][k]
        return f"{self.name(v)}.shape[{k}]"

    def record_dims(self, v, dims=None):
        """Give each unknown axis of ``v`` a name (``dims``: expressions, if known)."""
        out = []
        for k in range(v.ndim):
            if v.shape[k] is not None:
                out.append(str(v.shape[k]))
                continue
            expr = dims[k] if dims is not None else f"{self.name(v)}.shape[{k}]"
            if not expr.isidentifier():
                name = self.fresh("d")
                self.line(f"{name} = {expr}")
                expr = name
            out.append(expr)
        self.dims[v] = out

    def shape(self, v):
        return "(" + "".join(f"{self.dim(v, k)}, " for k in range(v.ndim)) + ")"

    def array(self, v):
        """A source name for ``v`` as an array (a scalar literal becomes a 0-d array)."""
        if v in self.literals:
            name = self.fresh("lit")
            self.line(f"{name} = empty((), {dtype_name(v.dtype)})")
            self.line(f"{name}[()] = {self.literals[v]}")
            return name
        return self.names[v]

    def bind(self, out, expr, alias_of=None):
        """``out = expr`` where ``expr`` may be a view of ``alias_of``."""
        self.line(f"{self.names[out]} = {expr}")
        if alias_of is not None and (alias_of in self.aliases or alias_of in self.literals):
            self.aliases.add(out)

    def at(self, v, idx):
        """Element ``idx`` (source index expressions, one per dim) of ``v``."""
        if v in self.literals:
            return self.literals[v]
        if not idx:
            return f"{self.name(v)}[()]"
        return f"{self.name(v)}[{', '.join(idx)}]"

    # -- emission ----------------------------------------------------------------------
    def line(self, text=""):
        return self.src.line(text)

    def block(self, header):
        return self.src.block(header)

    def fresh(self, prefix):
        return self.src.fresh(prefix)

    def alloc(self, v, dims, fill=None):
        """``name = empty(dims)`` (``zeros`` when ``fill`` is 0; kernels/alloc.py) for ``v``
        (dims: source expressions, recorded as ``v``'s dims). An update written in place
        (``in_place``) is given its variable's array instead: no allocation."""
        param = self.in_place.get(v)
        if param is not None and fill is None:
            self.names[v] = self.names[param]
            self.dims[v] = list(self.dims[param])
            self.placed.add(v)
            return self.names[v]
        self.record_dims(v, list(dims))
        shape = "(" + "".join(f"{self.dims[v][k]}, " for k in range(v.ndim)) + ")"
        fn = "zeros" if fill == 0 else "empty"
        self.line(f"{self.names[v]} = {fn}({shape}, {dtype_name(v.dtype)})")
        self.allocated.add(v)
        return self.names[v]

    @contextmanager
    def loops(self, dims):
        """Nested ``for`` loops over ``dims``; yields the index variable names."""
        idx = []
        opened = []
        for d in dims:
            i = self.fresh("i")
            cm = self.block(f"for {i} in range({d}):")
            cm.__enter__()
            opened.append(cm)
            idx.append(i)
        try:
            yield idx
        finally:
            for cm in reversed(opened):
                cm.__exit__(None, None, None)

    def check(self, condition, message, values=(), cls=ShapeError):
        """Emit ``if not condition: raise``. The raise carries only a code (a raise with
        run-time values costs a quarter second of compile time each); the backend turns
        it into the reference's own error, or ``cls(message)`` naming the node, where
        ``{}`` in ``message`` stands for run-time ``values`` (shown as '?')."""
        code = len(self.errors)
        self.errors.append((cls, self.lop, message.replace("{}", "?")))
        with self.block(f"if not ({condition}):"):
            self.line(f"raise ValueError(ERROR_MARK, {code})")

    def use_rng(self):
        self.uses_rng = True
        return "rng"

    def fit_check(self, condition, detail):
        """A run-time shape check in the reference's words: 'op: the run-time shapes do
        not fit (detail)'."""
        self.check(condition, f"{self.lop.op.name}: the run-time shapes do not fit ({detail})")

    def require(self, module, names):
        """Import ``names`` from ``module`` in the generated module (kernel library)."""
        self.imports.add((module, tuple(names)))

    def call_kernel(self, name, dtype, args):
        """A call of library kernel ``name`` (kernels/library.py) on source expressions
        ``args`` whose arrays are of ``dtype``: by address, the variant recorded for
        the backend to load; a dtype the library has no variant of calls the kernel's
        dispatcher (compiled into the program)."""
        from .kernels import library  # noqa: PLC0415 (imports Numba)
        dtype = np.dtype(dtype).name
        if dtype in library.DTYPES:
            self.require(library.__name__, [name])
            self.kernels.add((name, dtype))
        else:
            self.require(library.KERNELS[name][0], [name])
        self.line(f"{name}({', '.join(args)})")


# -- broadcasting ------------------------------------------------------------------------
def broadcast(ctx, out, inputs):
    """Run-time dims of elementwise output ``out`` of ``inputs`` (NumPy broadcasting),
    with checks where a dim is unknown; returns (dims, index function)."""
    rank = out.ndim
    dims, strides = [], {}
    for k in range(rank):
        contributors = []
        for x in inputs:
            j = k - (rank - x.ndim)
            if j >= 0 and x.shape[j] != 1 and x not in ctx.literals:
                contributors.append((x, j))
        static = out.shape[k]
        names = {ctx.dim(x, j) for x, j in contributors}
        if static is not None:
            for x, j in contributors:
                if x.shape[j] is None:
                    d = ctx.dim(x, j)
                    ctx.fit_check(f"{d} == {static} or {d} == 1",
                                  f"axis {k} of the result has size {static}")
            dims.append(str(static))
            unknown_only = False
        elif len(names) == 1:  # one size, known to be shared: nothing to check
            dims.append(names.pop())
            unknown_only = True
        else:
            n = ctx.fresh("n")
            ctx.line(f"{n} = 1")
            for x, j in contributors:
                d = ctx.dim(x, j)
                with ctx.block(f"if {d} != 1:"):
                    ctx.fit_check(f"{n} == 1 or {n} == {d}",
                                  f"sizes differ along axis {k} of the result")
                    ctx.line(f"{n} = {d}")
            dims.append(n)
            unknown_only = len(contributors) == 1
        for x, j in contributors:
            if x.shape[j] is None and not unknown_only and ctx.dim(x, j) != dims[-1]:
                s = ctx.fresh("s")
                ctx.line(f"{s} = 0 if {ctx.dim(x, j)} == 1 else 1")
                strides[(x, j)] = s

    def index(x, idx):
        if x in ctx.literals:
            return ctx.literals[x]
        sub = []
        for j in range(x.ndim):
            k = j + rank - x.ndim
            if x.shape[j] == 1:
                sub.append("0")
            elif (x, j) in strides:
                sub.append(f"{idx[k]} * {strides[(x, j)]}")
            else:
                sub.append(idx[k])
        return ctx.at(x, sub)

    return dims, index


def generate(lp, table):
    """The :class:`Generated` program for LoweredProgram ``lp`` using ``table``'s rules."""
    ctx = Context(lp)
    src = ctx.src
    arg_names = []
    for i, v in enumerate(lp.params):
        ctx.names[v] = f"p{i}"
        arg_names.append(f"p{i}")
        ctx.aliases.add(v)
        ctx.dims[v] = [str(d) if d is not None else f"p{i}_{k}" for k, d in enumerate(v.shape)]
    # values of ops, numbered by position; constants become literals or arguments
    for lop in lp.ops:
        if lop.op.source == "constant":
            v = lop.outputs[0]
            value = constant_array(lop)
            if value.ndim == 0 and value.dtype.kind in "biuf":
                ctx.literals[v] = plain_literal(value)
            else:
                name = f"const{len(ctx.const_args)}"
                ctx.names[v] = name
                ctx.const_args.append((v, np.ascontiguousarray(value)))
                arg_names.append(name)
                ctx.aliases.add(v)
            continue
        for v in lop.outputs:
            ctx.names[v] = src.fresh("v")

    body = Source()
    ctx.src = body
    body._depth = 1
    for v in lp.params:
        for k, d in enumerate(v.shape):
            if d is None:
                body.line(f"{ctx.dims[v][k]} = {ctx.names[v]}.shape[{k}]")
    line_ops = []
    if lp.kernels is not None:
        from .fused import render_kernel  # noqa: PLC0415 (fused imports this module)
        from .inplace import in_place_updates  # noqa: PLC0415
        ctx.in_place = in_place_updates(lp, table)
        for kernel in lp.kernels:
            render_kernel(ctx, kernel, table, node_name, line_ops)
    else:
        for lop in lp.ops:
            if lop.op.source == "constant":
                continue
            ctx.lop = lop
            rule = table.rule(lop.op, node_name(lop))
            line_ops.append((len(body.lines) + 1, lop))
            rule(ctx, lop)
            for out in lop.outputs:
                if out not in ctx.dims and out in ctx.names:
                    ctx.record_dims(out)
    ctx.lop = None

    # results: fetches and updates computed inside; params/constants picked in Python
    outs, out_index = [], {}
    const_values = {v for v, _ in ctx.const_args}

    fresh = set()  # indices of outs that are arrays allocated by the call (no views)

    def result(v, copy=False):
        if v.is_param:
            return ("param", lp.params.index(v))
        if v in ctx.literals or v in const_values:
            value = next(constant_array(op) for op in lp.ops if op.outputs[0] is v)
            return ("const", value)
        key = (v, copy)
        if key not in out_index:
            out_index[key] = len(outs)
            if copy or (v in ctx.allocated and v not in ctx.placed):
                fresh.add(len(outs))
            outs.append(f"np.copy({ctx.names[v]})" if copy else ctx.names[v])
        return ("out", out_index[key])

    fetches = [None if v is None else result(v) for v in lp.fetches]
    updates = []
    seen = set()
    for var, v in lp.updates:
        if v in ctx.placed:  # written into the variable's array (its parameter)
            updates.append((var, ("inplace", lp.params.index(ctx.in_place[v])), False))
            continue
        copy = v in ctx.aliases or v in seen
        seen.add(v)
        updates.append((var, result(v, copy=copy and not v.is_param), v.is_param or copy))
    ret = "(" + "".join(f"{o}, " for o in outs) + ")" if outs else "0"
    body.line(f"return {ret}")

    if ctx.uses_rng:
        arg_names.append("rng")
    head = Source()
    for text in PRELUDE.format(mark=ERROR_MARK).splitlines():
        head.line(text)
    for module, names in sorted(ctx.imports):
        head.line(f"from {module} import {', '.join(names)}")
    prelude = ctx.scalars.prelude()
    if prelude:
        head.line()
        for text in prelude.splitlines():
            head.line(text)
    head.line()
    head.line()
    segments = None
    if len(body.text()) > splitting.SPLIT_ABOVE:  # a huge program: segments (split.py)
        segments = splitting.split(body.lines, [first for first, _ in line_ops], arg_names)
    if segments is None:
        head.line('@njit(cache=True, nogil=True, error_model="numpy")')
        head.line(f"def program({', '.join(arg_names)}):")
        offset = len(head.lines)
        source = head.text() + body.text()
        line_ops = [(first + offset, lop) for first, lop in line_ops]
    else:
        source, line_ops = _segmented(head, segments, arg_names, line_ops)
    generated = Generated(source, list(lp.params), [a for _, a in ctx.const_args], fetches,
                          updates, ctx.errors, line_ops, ctx.uses_rng)
    generated.fresh_outs = frozenset(fresh)
    generated.scalar_files = ctx.scalars.modules()
    generated.kernels = tuple(sorted(ctx.kernels))
    return generated


def _segmented(head, segments, arg_names, line_ops):
    """The module source of a program split into segments (split.py), and
    ``line_ops`` renumbered to the lines the ops' code moved to."""
    functions, entry, line_map = segments
    offset = len(head.lines)
    lines = head.lines + functions + ["", "", f"def program({', '.join(arg_names)}):",
                                      *entry]
    moved = sorted(line_map)
    renumbered = []
    for first, lop in line_ops:  # a kernel that wrote nothing: the next line's place
        at = bisect_left(moved, first)
        if at < len(moved):
            renumbered.append((offset + line_map[moved[at]] + 1, lop))
    return "\n".join(lines) + "\n", renumbered


def constant_array(lop):
    """The array of a constant op (its ``value`` attr: a FrozenArray or an array)."""
    value = lop.attrs["value"]
    return np.asarray(getattr(value, "array", value))


def plain_literal(value):
    """A scalar constant as a bare Python literal: ``0.10000000149011612`` for float32
    0.1 (exact; mixed with float32 arrays the result is rounded to float32 on store),
    which types faster than a ``np.float32(...)`` call."""
    value = np.asarray(value)
    if value.dtype.kind == "f":
        f = float(value)
        if f != f or f in (float("inf"), float("-inf")):
            return literal(value, value.dtype)
        return repr(f)
    if value.dtype == np.bool_:
        return "True" if value else "False"
    return str(int(value))


__all__ = ["ERROR_MARK", "Context", "Generated", "broadcast", "generate"]
