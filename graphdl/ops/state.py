"""State ops: assign, assign_add, assign_sub, and group to run several at once.

Semantics within one ``Session.run``: every read of a variable sees its value
from the start of the run (reads are scheduled before the assignments that
consume them); assignments take effect in graph order, each on the latest value.
"""

import numpy as np

from .. import dtypes as _dt
from ..errors import DTypeError, GraphError, ShapeError
from ..graph import Tensor, as_node, get_default_graph
from ..shapes import broadcast_shapes, fmt
from .base import OpDef, apply, as_tensor, register
from .elementwise import add, subtract
from .sources import Variable


class _Assign(OpDef):
    stateful = True
    differentiable = False
    updates_variable = True

    def infer(self, var, value):
        try:
            shape = broadcast_shapes(var.shape, value.shape, op=self.name)
        except ShapeError:
            shape = None
        if shape != var.shape:
            raise ShapeError(f"{self.name}: value {value.name!r} with shape {fmt(value.shape)}"
                             f" does not fit variable {var.name!r} with shape "
                             f"{fmt(var.shape)}")
        return [(var.shape, var.dtype)]

    def forward(self, old, value):
        """The variable's new value from its current one (pure: backends store it)."""
        if self.update_with is None:
            new = np.broadcast_to(value, old.shape)
        else:
            new = self.update_with.forward(old, value)
        return np.array(new, dtype=old.dtype)

    def label(self, node):
        return f"{self.name}\n→ {node.inputs[0].name}"


class Assign(_Assign):
    """Set a variable to a new value; outputs the new value."""

    name = "assign"


ASSIGN = register(Assign())


class AssignAdd(_Assign):
    """Add to a variable in place; outputs the new value."""

    name = "assign_add"
    update_with = add.op


ASSIGN_ADD = register(AssignAdd())


class AssignSub(_Assign):
    """Subtract from a variable; outputs the new value."""

    name = "assign_sub"
    update_with = subtract.op


ASSIGN_SUB = register(AssignSub())


def _assign(op, var, value, name):
    if not isinstance(var, Variable):
        raise GraphError(f"{op.name}: target {getattr(var, 'name', var)!r} is not a "
                         "gd.Variable")
    if not isinstance(value, Tensor) and not _dt.is_float(var.dtype) and \
            np.asarray(value).dtype.kind == "f":
        raise DTypeError(f"{op.name}: float value {value!r} for variable {var.name!r} of "
                         f"dtype {var.dtype} would be truncated; use an integer value")
    value = as_tensor(value, like=var)
    if not _dt.is_float(var.dtype) and _dt.is_float(value.dtype):
        raise DTypeError(f"{op.name}: value {value.name!r} has dtype {value.dtype} but "
                         f"variable {var.name!r} has dtype {var.dtype}; assigning would "
                         "truncate (use gd.cast to say so)")
    return apply(op, [var, value], name=name)


def assign(var, value, name=None):
    """An op that sets ``var`` to ``value`` when run; evaluates to the new value."""
    return _assign(ASSIGN, var, value, name)


def assign_add(var, value, name=None):
    """An op that does ``var += value`` when run; evaluates to the new value."""
    return _assign(ASSIGN_ADD, var, value, name)


def assign_sub(var, value, name=None):
    """An op that does ``var -= value`` when run; evaluates to the new value."""
    return _assign(ASSIGN_SUB, var, value, name)


class Group(OpDef):
    """Runs its inputs (and control inputs); produces nothing."""

    name = "group"
    is_group = True
    stateful = True
    differentiable = False

    def infer(self):
        return []


GROUP = register(Group())


def group(*ops, name=None):
    """One op that runs every op or tensor in ``ops``: ``sess.run(gd.group(u1, u2))``.

    Returns the group's node; fetching it runs the members and yields None.
    """
    if len(ops) == 1 and isinstance(ops[0], (list, tuple)):
        ops = tuple(ops[0])
    if not ops:
        raise GraphError("group() needs at least one op")
    members = [as_node(o) for o in ops]
    graph = members[0].graph if members else get_default_graph()
    return graph.add_node(GROUP, [], {}, [], name=name or "group", control_inputs=members)
