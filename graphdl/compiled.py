"""Look at what a compiled backend makes of a graph, without running it.

``gd.compile(fetches, feeds, backend="numba")`` lowers, optimizes and generates the
program that ``Session.run(fetches, feed_dict)`` would run, and returns a
:class:`Compiled` with its generated ``source``, the passes' ``log`` and
``render()``, which draws the graph with each fused kernel framed as a cluster. The
``graphdl compile`` command writes the same three things into a directory.
"""

import inspect
from pathlib import Path

from .backends import get_backend
from .errors import GraphError
from .fileio import write_atomic
from .graph import Node, Tensor
from .program import Program


class Compiled:
    """A compiled program: ``source`` (Python that Numba compiles), ``log`` (each pass's
    result, as text), ``lowered`` (the LoweredProgram) and ``fetches``."""

    def __init__(self, fetches, runnable):
        self.fetches = list(fetches)
        self.runnable = runnable
        self.lowered = runnable.lp
        self.source = runnable.source
        self.log = "\n\n".join(f"--- {name} ---\n{text}" for name, text in runnable.log)
        self.log += "\n\n--- kernels ---\n" + "\n".join(repr(k) for k in
                                                       (self.lowered.kernels or []))

    def kernel_groups(self):
        """{kernel name: graph tensors} for every kernel of two or more graph nodes."""
        groups, seen = {}, set()
        for i, kernel in enumerate(self.lowered.kernels or []):
            nodes = []
            for lop in kernel.ops:
                node = lop.origin
                if node is not None and node not in seen and node.outputs:
                    seen.add(node)
                    nodes.append(node)
            if len(nodes) >= 2:
                ops = "+".join(sorted({n.op.name for n in nodes}))
                groups[f"kernel {i}: {kernel.kind} ({ops})"] = [n.outputs[0] for n in nodes]
        return groups

    def render(self, path=None, **options):
        """Draw the fetched graph with the fused kernels as clusters (``gd.render``
        options apply); returns the DOT source, and writes ``path`` when given."""
        from .viz import render  # noqa: PLC0415
        what = [f if isinstance(f, Tensor) else f.inputs[0] if f.inputs else f
                for f in self.fetches]
        what = [t for t in what if isinstance(t, Tensor)] or self.fetches
        return render(what, path=path, groups=self.kernel_groups(), **options)

    def write(self, directory, picture=True):
        """Write ``program.py`` (the source), ``passes.log`` and ``kernels.svg``."""
        out = Path(directory)
        out.mkdir(parents=True, exist_ok=True)
        write_atomic(out / "program.py", self.source.encode())
        write_atomic(out / "passes.log", (self.log + "\n").encode())
        written = [out / "program.py", out / "passes.log"]
        if picture:
            self.render(path=str(out / "kernels.svg"))
            written.append(out / "kernels.svg")
        return written


def compile(fetches, feeds=None, backend="numba"):  # noqa: A001 (gd.compile)
    """Compile ``fetches`` (a tensor, an op, or a list of them) as ``Session.run`` would
    with ``feeds`` (the tensors to be fed; default: every placeholder they need) and
    return a :class:`Compiled`. Nothing runs: no feed values are needed."""
    flat = list(fetches) if isinstance(fetches, (list, tuple)) else [fetches]
    if not flat or not all(isinstance(f, (Tensor, Node)) for f in flat):
        raise GraphError("compile: fetches must be tensors or ops (or a list of them)")
    if feeds is None:
        feeds = needed_placeholders(flat)
    program = Program(flat, sorted(feeds, key=lambda t: (t.node.id, t.index)))
    compiler = get_backend(backend)
    if not hasattr(compiler, "compile") or compiler.name in ("numpy", "auto"):
        raise GraphError(f"compile: backend {backend!r} does not generate code")
    takes_log = "log" in inspect.signature(compiler.compile).parameters
    runnable = compiler.compile(program, log=True) if takes_log else compiler.compile(program)
    if not hasattr(runnable, "source"):
        raise GraphError(f"compile: backend {backend!r} does not generate code")
    return Compiled(flat, runnable)


def needed_placeholders(fetches):
    """The placeholders that ``fetches`` depend on."""
    seen, stack, found = set(), [f.node if isinstance(f, Tensor) else f for f in fetches], []
    while stack:
        node = stack.pop()
        if node in seen:
            continue
        seen.add(node)
        if node.op.source == "feed":
            found.append(node.outputs[0])
        stack.extend(t.node for t in node.inputs)
        stack.extend(node.control_inputs)
    return found


__all__ = ["Compiled", "compile", "needed_placeholders"]
