"""The numba backend's fast paths for a training step: the BLAS kernel, in-place
variable updates, softmax and log-softmax computed together.

``W - lr * (x.T @ dh)`` becomes one ``gemm`` writing into W's own array; these tests
hold that to the reference's numbers and to the Session's promises: nothing the
caller holds changes, views of a variable are never overwritten while still read,
``check_numerics`` can still roll back. Few programs: each is a Numba compile."""

import numpy as np
import pytest

import graphdl as gd

pytest.importorskip("numba")
pytest.importorskip("scipy")


def _mlp_step():
    x = gd.placeholder((None, 6), "float32", name="x")
    y = gd.placeholder((None,), "int64", name="y")
    w1 = gd.Variable(gd.initializers.glorot_uniform((6, 5)), name="w1")
    b1 = gd.Variable(np.zeros(5, "float32"), name="b1")
    w2 = gd.Variable(gd.initializers.glorot_uniform((5, 3)), name="w2")
    logits = gd.relu(x @ w1 + b1) @ w2
    loss = gd.mean(gd.sparse_softmax_cross_entropy(logits, y))
    grads = gd.gradients(loss, [w1, b1, w2])
    train = gd.group(*[v.assign_sub(0.1 * g) for v, g in zip([w1, b1, w2], grads)])
    return x, y, [w1, b1, w2], loss, train


def test_sgd_updates_are_written_in_place_and_match_the_reference():
    x, y, ws, loss, train = _mlp_step()
    rng = np.random.default_rng(1)
    feeds = {x: rng.standard_normal((4, 6)).astype("float32"), y: np.array([0, 2, 1, 2])}
    sessions = [gd.Session(backend=b, seed=0) for b in ("numba", "numpy")]
    arrays = []
    for _ in range(3):
        losses = [s.run([loss, train], feeds)[0] for s in sessions]
        np.testing.assert_allclose(losses[0], losses[1], rtol=1e-5)
        arrays.append(sessions[0]._ctx.values[ws[0]])
    for v in ws:
        np.testing.assert_allclose(sessions[0]._ctx.values[v], sessions[1]._ctx.values[v],
                                   rtol=1e-5, atol=1e-6)
    compiled = sessions[0]._programs[next(iter(sessions[0]._programs))][1]
    source = compiled.source
    assert compiled.all_fresh  # the loss and W2's new value: handed out as they are
    # W1 in place (the flags are np.bool_: a bare True would compile gemm per combination)
    assert "gemm(p0, " in source and ", p2, np.bool_(True), np.bool_(False), -0.1" in source
    # from the second run on, W1's update is written into the array the session holds
    assert arrays[1] is arrays[2]
    # fetching W1 with the update: the fetch is the old value and stays the caller's
    before = sessions[0]._ctx.values[ws[0]].copy()
    got, _ = sessions[0].run([ws[0], train], feeds)
    np.testing.assert_array_equal(got, before)
    held = got.copy()
    sessions[0].run(train, feeds)
    np.testing.assert_array_equal(got, held)
    assert not np.shares_memory(got, sessions[0]._ctx.values[ws[0]])


def test_in_place_never_writes_into_an_array_the_backend_did_not_make():
    shared = np.ones((3, 3), "float32")  # an initializer handing out its own array
    w = gd.Variable(gd.Initializer((3, 3), "float32", lambda rng, shape: shared, "shared"),
                    name="w")
    x = gd.placeholder((3, 3), "float32", name="x")
    step = gd.group(w.assign_sub(0.5 * (x @ x)))  # a fetched update is never in place
    sess = gd.Session(backend="numba")
    sess.run(step, {x: np.eye(3, dtype="float32")})
    np.testing.assert_array_equal(shared, np.ones((3, 3), "float32"))
    np.testing.assert_allclose(sess.run(w), np.full((3, 3), 1.0) - 0.5 * np.eye(3))


def test_views_of_a_variable_are_not_overwritten_while_read():
    # the matmul reads a view of W (a slice: Numba returns a view, not a copy) and the
    # bias-like term reads row 0 of V for every row: written in place, both would see
    # half-updated values
    w = gd.Variable(np.arange(16, dtype="float32").reshape(4, 4) / 16, name="w")
    v = gd.Variable(np.arange(12, dtype="float32").reshape(3, 4), name="v")
    x = gd.placeholder((4, 4), "float32", name="x")
    step = gd.group(w.assign(w - 0.5 * (w[0:4] @ x)), v.assign(v + v[0:1]))
    feeds = {x: np.full((4, 4), 0.25, "float32")}
    got = []
    for backend in ("numba", "numpy"):
        sess = gd.Session(backend=backend)
        sess.run(step, feeds)
        sess.run(step, feeds)
        got.append(sess.run([w, v]))
    for a, b in zip(*got):
        np.testing.assert_allclose(a, b, rtol=1e-6)


def test_check_numerics_rolls_back_an_update_that_would_be_in_place():
    x, y, ws, loss, train = _mlp_step()
    sess = gd.Session(backend="numba", seed=0, check_numerics=True)
    good = {x: np.ones((2, 6), "float32"), y: np.array([0, 1])}
    sess.run(train, good)
    sess.run(train, good)
    before = [sess.run(v) for v in ws]
    bad = {x: np.full((2, 6), np.nan, "float32"), y: np.array([0, 1])}
    with pytest.raises(gd.NumericsError):
        sess.run(train, bad)
    for v, old in zip(ws, before):
        np.testing.assert_array_equal(sess.run(v), old)


def test_softmax_and_log_softmax_of_one_input_are_computed_together():
    x = gd.placeholder((None, 4), "float32", name="x")
    fetches = [gd.softmax(x), gd.log_softmax(x)]
    compiled = gd.compile(fetches, feeds=[x], backend="numba")
    assert compiled.source.count("math.exp(") == 1  # one exp per element, both outputs
    feed = {x: np.array([[1000.0, -1000.0, 0.5, -np.inf], [1.0, 2.0, 3.0, 4.0],
                         [-np.inf, 0.0, -np.inf, -np.inf]], "float32")}
    got = [gd.Session(backend=b).run(fetches, feed) for b in ("numba", "numpy")]
    for a, b in zip(*got):
        np.testing.assert_allclose(a, b, rtol=1e-6, atol=1e-7)


def test_a_run_time_check_after_the_gemm_keeps_the_variable_unchanged():
    # the epilogue after W - 0.5 * (a @ a) adds z, whose unknown first dim is checked
    # inside the kernel: the BLAS call must not have written into W by then
    w = gd.Variable(np.ones((4, 4), "float32"), name="w")
    a = gd.placeholder((4, 4), "float32", name="a")
    z = gd.placeholder((None, 4), "float32", name="z")
    new = w - 0.5 * (a @ a)
    step = [new + z, gd.group(w.assign(new))]
    sess = gd.Session(backend="numba")
    eye = np.eye(4, dtype="float32")
    for _ in range(2):
        sess.run(step, {a: eye, z: np.ones((4, 4), "float32")})
    before = sess.run(w)
    with pytest.raises(gd.ShapeError):
        sess.run(step, {a: eye, z: np.ones((3, 4), "float32")})
    np.testing.assert_array_equal(sess.run(w), before)
