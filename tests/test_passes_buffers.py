"""The buffer plan: dead buffers are reused; updates go in place only when safe."""

import numpy as np

import graphdl as gd
from graphdl.passes import optimize

from .passcheck import program


def test_dead_buffers_are_reused_and_fetched_values_keep_theirs():
    x = gd.placeholder((2, 6), name="x")
    a = gd.softmax(x)
    b = gd.softmax(a)
    c = gd.softmax(b)      # a is dead once b exists: c can take a's buffer
    d = gd.softmax(c)
    lp = optimize(program([d, b], [x]))
    plan = lp.buffers
    slot = {lop.outputs[0]: plan.slot_of[lop.outputs[0]] for lop in lp.ops}
    va, vb, vc, vd = (lop.outputs[0] for lop in lp.ops)
    assert slot[vc] == slot[va]            # reused
    assert slot[vd] not in (slot[vb], slot[vc])
    assert len(plan.slot_types) == 3
    assert plan.slot_types[slot[va]] == ((2, 6), np.dtype("float32"))


def _step(fetch_old=False, read_after=False, failing_after=False):
    x = gd.placeholder((4, 3), name="x")
    W = gd.Variable(np.ones((3, 2), "float32"), name="W")
    b = gd.Variable(np.zeros(2, "float32"), name="b")
    loss = gd.sum(gd.tanh(x @ W + b))
    gW, gb = gd.gradients(loss, [W, b])
    updates = [gd.assign_sub(W, 0.1 * gW), gd.assign_sub(b, 0.1 * gb)]
    fetches = [loss, gd.group(*updates)]
    if fetch_old:
        fetches.append(W)
    with gd.control_dependencies(updates):
        if read_after:
            fetches.append(gd.sum(W * 2.0))   # reads the start-of-run W, after the update
        if failing_after:
            y = gd.placeholder((None,), "int64", name="y")
            fetches.append(gd.sparse_softmax_cross_entropy(gd.reshape(x @ W, (4, 2)), y))
    feeds = [x] + ([y] if failing_after else [])
    return optimize(program(fetches, feeds)), W, b


def test_a_training_step_updates_its_variables_in_place():
    lp, W, b = _step()
    assert set(lp.buffers.in_place) == {W, b}
    assert all(v not in lp.buffers.slot_of for v in lp.buffers.in_place.values())


def test_no_in_place_update_when_the_old_value_is_fetched_or_read_later():
    lp, W, b = _step(fetch_old=True)
    assert W not in lp.buffers.in_place and b in lp.buffers.in_place
    lp, W, b = _step(read_after=True)
    assert W not in lp.buffers.in_place


def test_no_in_place_update_before_something_that_may_still_fail():
    lp, W, b = _step(failing_after=True)
    assert lp.buffers.in_place == {}


def test_unknown_batch_updates_in_place_after_the_last_kernel_that_may_fail():
    x = gd.placeholder((None, 3), name="x")
    W1 = gd.Variable(np.ones((3, 4), "float32"), name="W1")
    W2 = gd.Variable(np.ones((4, 2), "float32"), name="W2")
    b2 = gd.Variable(np.zeros(2, "float32"), name="b2")
    loss = gd.sum(gd.tanh(gd.tanh(x @ W1) @ W2 + b2))
    grads = gd.gradients(loss, [W1, W2, b2])
    step = gd.group(*[gd.assign_sub(v, 0.1 * g) for v, g in zip([W1, W2, b2], grads)])
    lp = optimize(program([loss, step], [x]))
    # W2's gradient contracts the unknown batch before W1's, whose matmul checks its
    # sizes before writing; after W1's update nothing can fail
    assert set(lp.buffers.in_place) == {W1, b2}
