"""Op identity by flags: graph code asks an OpDef what it is, never its name."""

import numpy as np
import pytest

import graphdl as gd
from graphdl.ops.base import REGISTRY, OpDef, apply
from graphdl.ops.elementwise import multiply
from graphdl.ops.sources import FrozenArray
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


def test_a_new_assignment_op_runs_on_the_reference_backend_by_its_flags():
    v = gd.Variable(np.float32(3.0), name="v")
    new = apply(_AssignMul(), [v, gd.constant(np.float32(2.0))])
    sess = gd.Session()
    assert sess.run(new) == 6.0
    assert sess.run(v) == 6.0


class _Coin(OpDef):
    """A new random op: defines ``sample``, no backend edit."""

    name = "coin_test"
    stateful = True
    random = True

    def infer(self, x):
        return [(x.shape, x.dtype)]

    def sample(self, rng, x):
        return (rng.random(x.shape) < 0.5).astype(x.dtype)


def test_a_new_random_op_draws_from_the_session_generator():
    x = gd.placeholder((5,), "float64")
    coin = apply(_Coin(), [x])
    X = np.zeros(5)
    first = gd.Session(seed=3).run(coin, {x: X})
    again = gd.Session(seed=3).run(coin, {x: X})
    np.testing.assert_array_equal(first, again)
    lp = lower(Program([coin], [x]))
    (drawn,), _ = evaluate(lp, [X], rng=np.random.default_rng(3))
    np.testing.assert_array_equal(drawn, first)


def test_constants_are_frozen_and_equal_by_value_so_nodes_compare():
    a = gd.constant(np.arange(6.0).reshape(2, 3))
    b = gd.constant(np.arange(6.0).reshape(2, 3))
    c = gd.constant(np.arange(6.0).reshape(3, 2))
    va, vb, vc = (t.node.attrs["value"] for t in (a, b, c))
    assert isinstance(va, FrozenArray) and va == vb and hash(va) == hash(vb) and va != vc
    assert va != FrozenArray(va.array.astype("float32"))
    with pytest.raises(ValueError):
        va.array[0, 0] = 1.0  # read-only


def test_unhashable_attrs_are_refused_at_build_time():
    with pytest.raises(gd.GraphError, match="hashable"):
        gd.get_default_graph().add_node(REGISTRY["constant"], [], {"value": np.zeros(2)},
                                        [((2,), np.dtype("float64"))])
