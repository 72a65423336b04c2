"""Lowering a Program: state made explicit, same meaning as the reference backend."""

import numpy as np

import graphdl as gd
from graphdl.passes import lower
from graphdl.passes.interpret import evaluate
from graphdl.program import Program

from .passcheck import args_for


def test_training_step_lowers_to_the_reference_values_and_updates():
    x = gd.placeholder((None, 3), name="x")
    W = gd.Variable(np.arange(6, dtype="float32").reshape(3, 2) / 10, name="W")
    step = gd.Variable(0, name="step", dtype="int64")
    loss = gd.mean(gd.softmax(x @ W))
    train = gd.group(gd.assign_sub(W, 0.5 * gd.gradients(loss, W)), gd.assign_add(step, 1))
    X = np.array([[1, 2, 3], [0, -1, 2]], "float32")

    lp = lower(Program([loss, train], [x]))
    assert [v.kind for v in lp.params] == ["feed", "variable", "variable"]
    assert [var.name for var, _ in lp.updates] == ["W", "step"]
    assert lp.fetches[1] is None  # the group produces nothing
    assert all(lop.op.name not in ("group", "assign_sub", "assign_add") for lop in lp.ops)

    sess = gd.Session(seed=0)
    fetches, updates = evaluate(lp, args_for(lp, {x: X}, sess))
    expected_loss, _ = sess.run([loss, train], {x: X})
    np.testing.assert_allclose(fetches[0], expected_loss, rtol=1e-6)
    np.testing.assert_allclose(updates[W], sess.run(W), rtol=1e-6)
    assert updates[step] == sess.run(step) == 1


def test_assignments_chain_in_graph_order_and_reads_see_the_start_of_the_run():
    v = gd.Variable(np.float32(1.0), name="v")
    a = gd.assign_add(v, 2.0)
    with gd.control_dependencies([a]):
        b = gd.assign(v, v * 10.0)   # v here is the value at the start of the run
    lp = lower(Program([b.node], []))
    sess = gd.Session()
    _, updates = evaluate(lp, args_for(lp, {}, sess))
    sess.run(b.node)
    assert updates[v] == sess.run(v) == 10.0


def test_feeding_a_variable_changes_reads_not_the_stored_value_assign_add_starts_from():
    v = gd.Variable(np.float32(1.0), name="v")
    doubled = gd.assign(v, v * 2.0)
    lp = lower(Program([doubled], [v]))
    assert [p.kind for p in lp.params] == ["feed"]
    lp = lower(Program([gd.assign_add(v, 1.0)], [v]))
    assert [p.kind for p in lp.params] == ["feed", "variable"]
