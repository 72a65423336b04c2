"""Lowering tables: how a compiled backend turns each op into code.

One :class:`LoweringTable` per backend, keyed by the :class:`~graphdl.ops.base.OpDef`
object itself (never by its name), in the style of JAX's ``register_lowering``::

    CPU = LoweringTable("numba")

    @CPU.register(Exp.op)
    def _exp(ctx, lop): ...

"Backend X supports op Y" means exactly that Y is a key of X's table
(``table.supports(op)``). A table may extend a ``parent`` table: a rule registered
on the child overrides the parent's for that target only (a per-target override).
Looking up an op with no rule is a :class:`LoweringError` naming the op and the
graph node, raised when the program is compiled, never a silent fallback.
"""

from ..errors import GraphError


class LoweringError(GraphError):
    """A program uses an op the backend cannot lower, or lowering it failed."""


class LoweringTable:
    """Op -> lowering rule for one backend (or one target of a backend)."""

    def __init__(self, name, parent=None):
        self.name = name
        self.parent = parent
        self._rules = {}

    def register(self, *ops):
        """Decorator: ``rule`` lowers each of ``ops`` (OpDef instances)."""
        for op in ops:
            if not hasattr(op, "infer"):
                raise TypeError(f"register() takes OpDef instances, got {op!r}")

        def decorate(rule):
            for op in ops:
                self._rules[op] = rule
            return rule
        return decorate

    def supports(self, op):
        """Whether this table (or its parent) has a rule for ``op``."""
        return op in self._rules or (self.parent is not None and self.parent.supports(op))

    def rule(self, op, node_name=None):
        """The rule for ``op``; a LoweringError naming the op (and node) if none."""
        if op in self._rules:
            return self._rules[op]
        if self.parent is not None and self.parent.supports(op):
            return self.parent.rule(op, node_name)
        where = f" (node {node_name!r})" if node_name else ""
        raise LoweringError(f"backend {self.name!r} has no lowering for op "
                            f"{op.name!r}{where}; supported ops: "
                            f"{', '.join(sorted(o.name for o in self.ops()))}")

    def ops(self):
        """Every op with a rule here or in the parent."""
        mine = set(self._rules)
        return mine | (self.parent.ops() if self.parent is not None else set())

    def __repr__(self):
        return f"<LoweringTable {self.name} ({len(self.ops())} ops)>"


__all__ = ["LoweringError", "LoweringTable"]
