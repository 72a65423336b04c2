"""Short MLP and CNN training runs on the cuda backend (simulator) equal the
reference backend step by step; variables stay on the device between runs and
a failing run commits nothing."""

import numpy as np
import pytest

import graphdl as gd


def _mlp():
    rng = np.random.default_rng(0)
    x = gd.placeholder((None, 8), name="x")
    y = gd.placeholder((None,), "int64", name="y")
    w1 = gd.Variable(rng.standard_normal((8, 16)).astype("float32") * 0.3, name="w1")
    b1 = gd.Variable(np.zeros(16, "float32"), name="b1")
    w2 = gd.Variable(rng.standard_normal((16, 3)).astype("float32") * 0.3, name="w2")
    b2 = gd.Variable(np.zeros(3, "float32"), name="b2")
    logits = gd.relu(x @ w1 + b1) @ w2 + b2
    loss = gd.mean(gd.sparse_softmax_cross_entropy(logits, y))
    params = [w1, b1, w2, b2]
    feeds = {x: rng.standard_normal((6, 8)).astype("float32"), y: rng.integers(0, 3, 6)}
    return loss, params, feeds


def _cnn():
    rng = np.random.default_rng(1)
    x = gd.placeholder((None, 1, 6, 6), name="x")
    y = gd.placeholder((None, 3), name="y")
    k = gd.Variable(rng.standard_normal((2, 1, 3, 3)).astype("float32") * 0.5, name="k")
    w = gd.Variable(rng.standard_normal((8, 3)).astype("float32") * 0.5, name="w")
    h = gd.max_pool2d(gd.tanh(gd.conv2d(x, k, padding="same")), 3)
    logits = gd.flatten(h) @ w
    loss = gd.mean(gd.softmax_cross_entropy(logits, y))
    feeds = {x: rng.standard_normal((2, 1, 6, 6)).astype("float32"),
             y: np.eye(3, dtype="float32")[[0, 2]]}
    return loss, [k, w], feeds


@pytest.mark.parametrize("build", [_mlp, _cnn], ids=["mlp", "cnn"])
def test_training_matches_reference(build):
    loss, params, feeds = build()
    grads = gd.gradients(loss, params)
    step = gd.group(*[gd.assign_sub(p, 0.5 * g) for p, g in zip(params, grads)])
    runs = {}
    for backend in ("numpy", "cuda"):
        sess = gd.Session(backend=backend, seed=0)
        losses = [sess.run([loss, step], feeds)[0] for _ in range(3)]
        runs[backend] = losses + sess.run(params)
    assert runs["numpy"][2] < runs["numpy"][0]  # it trains
    for want, got in zip(runs["numpy"], runs["cuda"]):
        np.testing.assert_allclose(got, want, rtol=1e-4, atol=1e-5)


def test_a_failing_run_commits_nothing():
    x = gd.placeholder((None, 2), name="x")
    v = gd.Variable(np.ones(2, "float32"), name="v")
    labels = gd.placeholder((None,), "int64", name="labels")
    loss = gd.sum(gd.sparse_softmax_cross_entropy(x * v, labels))
    step = gd.assign_add(v, gd.constant(np.ones(2, "float32")))
    sess = gd.Session(backend="cuda", seed=0)
    sess.run([loss, step], {x: np.ones((1, 2), "float32"), labels: [1]})
    with pytest.raises(gd.GraphError, match="label 5 is out of range for 2 classes"):
        sess.run([loss, step], {x: np.ones((1, 2), "float32"), labels: [5]})
    np.testing.assert_array_equal(sess.run(v), [2.0, 2.0])  # one committed update only


def test_dropout_masks_follow_the_seed_and_the_rate():
    x = gd.placeholder((None, 64), name="x")
    mask = gd.dropout(x, 0.25) / x
    ones = np.ones((32, 64), "float32")
    a = gd.Session(backend="cuda", seed=3).run(mask, {x: ones})
    b = gd.Session(backend="cuda", seed=3).run(mask, {x: ones})
    np.testing.assert_array_equal(a, b)
    assert set(np.unique(a)) <= {0.0, np.float32(1 / 0.75)}
    assert 0.15 < (a == 0).mean() < 0.35


def test_gather_index_out_of_range_raises_like_the_reference():
    table = gd.Variable(np.arange(12, dtype="float32").reshape(4, 3), name="table")
    ids = gd.placeholder((None,), "int64", name="ids")
    rows = gd.gather(table, ids)
    sess = gd.Session(backend="cuda", seed=0)
    np.testing.assert_array_equal(sess.run(rows, {ids: [3, -1, 0]}),
                                  np.arange(12).reshape(4, 3)[[3, -1, 0]])
    with pytest.raises(gd.GraphError, match="gather: index 4 is out of range for axis 0"):
        sess.run(rows, {ids: [1, 4]})


def test_grad_ys_of_the_wrong_run_time_shape_is_a_shape_error():
    x = gd.placeholder((None, 2), name="x")
    gy = gd.placeholder((None, 2), name="gy")
    (gx,) = gd.gradients(gd.tanh(x), [x], grad_ys=[gy])
    sess = gd.Session(backend="cuda", seed=0)
    ones = np.ones((3, 2), "float32")
    np.testing.assert_allclose(sess.run(gx, {x: ones * 0, gy: ones}), ones)
    with pytest.raises(gd.ShapeError, match="at run time, expected"):
        sess.run(gx, {x: ones, gy: np.ones((1, 2), "float32")})


def test_checkpoint_save_and_restore_see_the_device_values(tmp_path):
    """Saving reads the device values (through run); restoring replaces the stored
    values, which the device copies follow."""
    from graphdl import checkpoint  # noqa: PLC0415
    v = gd.Variable(np.zeros(3, "float32"), name="v")
    step = gd.assign_add(v, gd.constant(np.ones(3, "float32")))
    sess = gd.Session(backend="cuda", seed=0)
    sess.run(step)
    sess.run(step)
    checkpoint.save(sess, tmp_path / "ck.npz", [v])
    sess.run(step)
    np.testing.assert_array_equal(sess.run(v), [3, 3, 3])
    checkpoint.restore(sess, tmp_path / "ck.npz", [v])
    np.testing.assert_array_equal(sess.run(v), [2, 2, 2])
    sess.run(step)
    np.testing.assert_array_equal(sess.run(v), [3, 3, 3])


def test_keras_style_model_with_adam_trains_like_the_reference():
    rng = np.random.default_rng(0)
    X = rng.standard_normal((8, 5)).astype("float32")
    Y = rng.integers(0, 3, 8)
    history = {}
    for backend in ("numpy", "cuda"):
        model = gd.nn.Sequential([gd.nn.Dense(6, activation="relu"), gd.nn.Dense(3)])
        model.compile(optimizer="adam", loss="sparse_categorical_crossentropy",
                      metrics=["accuracy"], backend=backend)
        history[backend] = model.fit(X, Y, epochs=2, batch_size=4, shuffle=False,
                                     verbose=0).history
    for key, want in history["numpy"].items():
        np.testing.assert_allclose(history["cuda"][key], want, rtol=1e-4, atol=1e-5)
