"""Op identity by flags: graph code asks an OpDef what it is, never its name."""

import numpy as np
import pytest

import graphdl as gd
from graphdl.ops.base import REGISTRY, OpDef, apply
from graphdl.ops.elementwise import multiply
from graphdl.ops.state import _Assign
from graphdl.passes import lower
from graphdl.passes.interpret import evaluate
from graphdl.program import Program
from graphdl.viz.style import kind_of


def test_every_op_answers_the_flags_consistently():
    for op in REGISTRY.values():
        assert op.source in (None, "feed", "variable", "constant"), op
        assert not (op.updates_variable and op.source), op
        if op.update_with is not None:
            assert op.updates_variable, op
        assert all(isinstance(i, int) for i in op.selector_inputs), op
    sources = {op.name: op.source for op in REGISTRY.values() if op.source}
    assert sources == {"placeholder": "feed", "variable": "variable", "constant": "constant"}


class _AssignMul(_Assign):
    """A new assignment op defined only by its flags (not registered)."""

    name = "assign_mul_test"
    update_with = multiply.op


def test_a_new_assignment_op_needs_no_edit_outside_its_definition():
    v = gd.Variable(np.float32(3.0), name="v")
    x = gd.placeholder((), name="x")
    new = apply(_AssignMul(), [v, x])
    assert kind_of(new.node) == "state"
    lp = lower(Program([new], [x]))
    assert [p.kind for p in lp.params] == ["feed", "variable"]
    fetches, updates = evaluate(lp, [np.float32(2.0), np.float32(3.0)])
    assert fetches[0] == updates[v] == 6.0


def test_a_comparison_as_a_where_condition_does_not_block_gradients_a_cast_to_int_does():
    x = gd.placeholder((3,), "float64")
    assert gd.gradients(gd.sum(gd.where(x > 0, x, 0.0 * x)), x) is not None
    with pytest.raises(gd.NotDifferentiableError, match="cast"):
        gd.gradients(gd.sum(gd.cast(gd.cast(x, "int64"), "float64")), x)
    ok = gd.cast(x, "float32")
    assert ok.node.op.has_gradient(ok.node)
    assert isinstance(ok.node.op, OpDef)
