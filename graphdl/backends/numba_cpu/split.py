"""Splitting a large generated program into segments of bounded size.

Numba's cost of compiling one function grows faster than its size: its SSA
reconstruction and closure inlining passes, and LLVM's function passes, are
superlinear in the number of blocks and values of the function (measured on the
unrolled LSTM's training step: twice the source took 2.5 times as long in LLVM's
function passes and 6 times as long in ``reconstruct_ssa``; a 20-step step, 200 KB
of source, had not compiled after 30 minutes). So a program whose body is larger
than :data:`SPLIT_ABOVE` characters is cut, between kernels, into segments of about
:data:`SEGMENT_SIZE` characters, each its own ``@njit`` function: it takes the
values it reads that earlier segments (or the parameters) made and returns the
values that later segments or the results read. The entry function ``program``
calls them in order, so a run is still one native call and the caller sees no
difference; each segment is compiled (and its compile time bounded) on its own, and
the entry's cached machine code holds them all.

The analysis is on the generated Python (``ast``): a name stored in a segment and
loaded by a later one is returned; a name loaded by a segment and stored by an
earlier one (or a parameter) is passed in. Everything else a segment loads is a
module global (``np``, ``empty``, the kernels).
"""

import ast
import os

#: bodies (the entry function's statements, in characters) up to this size stay one
#: function: the MLP (6 KB) and CNN (12 KB) steps compile fastest that way
SPLIT_ABOVE = int(os.environ.get("GRAPHDL_SPLIT_ABOVE", "24000"))
#: the size a segment grows to before the next kernel starts a new one
SEGMENT_SIZE = int(os.environ.get("GRAPHDL_SEGMENT_SIZE", "12000"))

DECORATOR = '@njit(cache=True, nogil=True, error_model="numpy")'


def _names(statements):
    """(names stored, names loaded) by ``statements`` (ast nodes)."""
    stored, loaded = set(), set()
    for stmt in statements:
        for node in ast.walk(stmt):
            if isinstance(node, ast.Name):
                (stored if isinstance(node.ctx, ast.Store) else loaded).add(node.id)
    return stored, loaded


def _cut(statements, lines, cuts, segment_size):
    """Group top-level ``statements`` into segments, cutting only before a statement
    that starts at a line in ``cuts`` (a kernel's first line), once the segment
    holds ``segment_size`` characters."""
    segments, current, size = [], [], 0
    for stmt in statements:
        if current and size >= segment_size and stmt.lineno in cuts:
            segments.append(current)
            current, size = [], 0
        current.append(stmt)
        size += sum(len(lines[k]) + 1 for k in range(stmt.lineno - 1, stmt.end_lineno))
    if current:
        segments.append(current)
    return segments


def split(body_lines, cuts, params, segment_size=None):
    """Cut a program body into segment functions and an entry body.

    ``body_lines``: the entry function's body (indented one level, its last
    statement the ``return``); ``cuts``: 1-based body line numbers where a kernel
    starts; ``params``: the entry's parameter names. Returns ``(functions,
    entry_lines, line_map)``: the segments' source lines (decorated ``def``s),
    the new entry body, and per body line (1-based) its index in ``functions``
    (0-based), so errors can still be traced to a line. ``None`` when the body
    does not split into two or more segments."""
    segment_size = SEGMENT_SIZE if segment_size is None else segment_size
    tree = ast.parse("if True:\n" + "\n".join(body_lines))
    statements = tree.body[0].body
    for stmt in statements:  # line numbers of the body (the parse added one line)
        stmt.lineno -= 1
        stmt.end_lineno -= 1
    *work, ret = statements
    if not isinstance(ret, ast.Return):
        raise ValueError("internal: a program body ends with its return")
    segments = _cut(work, body_lines, set(cuts), segment_size)
    if len(segments) < 2:
        return None
    names = [_names(seg) for seg in segments]
    _, final_loads = _names([ret])
    defined = set(params)  # names that exist in the entry before each segment
    functions, entry, line_map, plans = [], [], {}, []
    for k, seg in enumerate(segments):
        stored, loaded = names[k]
        later = set(final_loads).union(*(ld for _, ld in names[k + 1:]))
        inputs = sorted(loaded & defined, key=_natural)
        outputs = sorted(stored & later, key=_natural)
        functions.append("")
        functions.append(DECORATOR)
        functions.append(f"def segment{k}({', '.join(inputs)}):")
        for stmt in seg:
            for line in range(stmt.lineno, stmt.end_lineno + 1):
                line_map[line] = len(functions)
                functions.append(body_lines[line - 1])
        call = f"segment{k}({', '.join(inputs)})"
        if outputs:
            functions.append(f"    return ({''.join(o + ', ' for o in outputs)})")
            entry.append(f"    ({''.join(o + ', ' for o in outputs)}) = {call}")
        else:
            entry.append(f"    {call}")
        defined |= set(outputs)
        plans.append((inputs, outputs))
    entry.extend(body_lines[ret.lineno - 1:ret.end_lineno])
    plan = [f"    (segment{k}, {_tuple(ins)}, {_tuple(outs)})," for k, (ins, outs) in
            enumerate(plans)]
    entry += ["", "", f"PARAMS = {_tuple(params)}", "SEGMENTS = (", *plan, ")"]
    return functions, entry, line_map


def _tuple(names):
    """``('a', 'b', )``: a tuple of names as source."""
    return "(" + "".join(f"{n!r}, " for n in names) + ")"


class Segmented:
    """The callable of a split program: its entry, a plain Python function that
    calls the compiled segments in order (calling them from a compiled entry made
    LLVM optimize and assemble every segment a second time, linked into the
    entry: a third of the compile time).

    ``compile(types)`` compiles every segment for the parameters' Numba types
    without running: each segment's return type gives the types of the next
    segments' inputs. ``stats`` sums the segments' (Numba's cache hits).
    """

    def __init__(self, module, prepare=None):
        self.entry = module.program
        self.params = module.PARAMS
        self.segments = [((prepare or (lambda fn: fn))(fn), ins, outs)
                         for fn, ins, outs in module.SEGMENTS]

    def __call__(self, *args):
        return self.entry(*args)

    def compile(self, types):
        known = dict(zip(self.params, types))
        for fn, ins, outs in self.segments:
            signature = tuple(known[n] for n in ins)
            fn.compile(signature)
            returned = fn.overloads[signature].signature.return_type
            known.update(zip(outs, getattr(returned, "types", ())))

    @property
    def stats(self):
        hits = {}
        for fn, _, _ in self.segments:
            for sig, n in fn.stats.cache_hits.items():
                hits[(fn.py_func.__name__, sig)] = n
        return _Stats(hits)


class _Stats:
    def __init__(self, cache_hits):
        self.cache_hits = cache_hits


def _natural(name):
    """Sort key: ``v2`` before ``v10`` (a stable, readable argument order)."""
    head = name.rstrip("0123456789")
    tail = name[len(head):]
    return (head, int(tail) if tail else -1, name)


__all__ = ["SEGMENT_SIZE", "SPLIT_ABOVE", "Segmented", "split"]
