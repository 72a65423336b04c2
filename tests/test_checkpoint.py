"""Checkpoints: round trips, and every bad file is a clear error that changes nothing."""

import numpy as np
import pytest

import graphdl as gd
from graphdl.checkpoint import CheckpointError

L = gd.nn


def two_variables():
    with gd.name_scope("layer"):
        W = gd.Variable(gd.initializers.normal((3, 2)), name="W")
        b = gd.Variable(np.zeros(2, "float32"), name="b")
    return W, b


def test_save_restore_round_trip(tmp_path):
    W, b = two_variables()
    sess = gd.Session(seed=1)
    sess.run(gd.assign(b, [1.0, 2.0]))
    saved = sess.run([W, b])
    gd.save(sess, tmp_path / "ckpt.npz")
    other = gd.Session(seed=2)  # different initial W
    assert not np.array_equal(other.run(W), saved[0])
    gd.restore(other, tmp_path / "ckpt.npz")
    for a, e in zip(other.run([W, b]), saved):
        np.testing.assert_array_equal(a, e)
    assert [p.name for p in tmp_path.iterdir()] == ["ckpt.npz"]  # no temporary file left


def _assert_unchanged(sess, vs, before):
    for v, value in zip(vs, before):
        np.testing.assert_array_equal(sess.run(v), value)


def test_bad_files_raise_and_change_no_variable(tmp_path):
    W, b = two_variables()
    sess = gd.Session(seed=1)
    before = sess.run([W, b])
    good = tmp_path / "good.npz"
    gd.save(sess, good)
    data = good.read_bytes()

    truncated = tmp_path / "truncated.npz"
    truncated.write_bytes(data[: len(data) // 2])
    garbage = tmp_path / "garbage.npz"
    garbage.write_bytes(b"not a checkpoint at all")
    plain = tmp_path / "plain.npz"
    np.savez(plain, W=np.zeros((3, 2), "float32"))
    flipped = tmp_path / "flipped.npz"  # one byte of the stored W changed: CRC mismatch
    pos = data.index(before[0].tobytes()[:8])
    flipped.write_bytes(data[:pos] + bytes([data[pos] ^ 0xFF]) + data[pos + 1:])
    cases = [(truncated, "truncated"), (garbage, "truncated or not a graphdl"),
             (plain, "not a graphdl checkpoint"), (flipped, "truncated or not a graphdl"),
             (tmp_path / "missing.npz", "does not exist")]
    for path, message in cases:
        with pytest.raises(CheckpointError, match=message):
            gd.restore(sess, path)
        _assert_unchanged(sess, [W, b], before)


def test_name_and_shape_mismatches(tmp_path):
    with gd.Graph().as_default():
        with gd.name_scope("layer"):
            gd.Variable(np.ones((3, 2), "float32"), name="W")
            gd.Variable(np.ones(5, "float32"), name="b")  # other shape
        wrong_shape = gd.Session()
        gd.save(wrong_shape, tmp_path / "shape.npz")
    with gd.Graph().as_default():
        gd.Variable(np.ones((3, 2), "float32"), name="V")  # other names
        gd.save(gd.Session(), tmp_path / "names.npz")
    W, b = two_variables()
    sess = gd.Session(seed=1)
    before = sess.run([W, b])
    with pytest.raises(CheckpointError, match=r"'layer/b' is \(2,\) float32, the file holds "
                                              r"\(5,\) float32"):
        gd.restore(sess, tmp_path / "shape.npz")
    with pytest.raises(CheckpointError, match="missing: layer/W, layer/b; unexpected: V"):
        gd.restore(sess, tmp_path / "names.npz")
    _assert_unchanged(sess, [W, b], before)


def _mlp():
    return L.Sequential([L.Dense(4, activation="tanh"), L.Dense(2)], input_shape=(3,), seed=0)


def test_model_save_load_round_trip(tmp_path):
    X = np.random.default_rng(0).standard_normal((6, 3)).astype("float32")
    model = _mlp()
    model.compile(gd.optim.SGD(0.5), "mse")
    model.fit(X, np.ones((6, 2), "float32"), epochs=3, verbose=0)
    model.save(tmp_path / "model.npz")
    fresh = L.Sequential([L.Dense(4, activation="tanh"), L.Dense(2)], seed=5)  # not built
    fresh.load(tmp_path / "model.npz")
    np.testing.assert_array_equal(fresh.predict(X), model.predict(X))


def test_model_load_of_another_model_changes_nothing(tmp_path):
    other = L.Sequential([L.Dense(4), L.Dense(3), L.Dense(2)], input_shape=(3,))
    other.predict(np.zeros((1, 3), "float32"))
    other.save(tmp_path / "other.npz")
    wider = L.Sequential([L.Dense(5, activation="tanh"), L.Dense(2)], input_shape=(3,))
    wider.predict(np.zeros((1, 3), "float32"))
    wider.save(tmp_path / "wider.npz")
    model = _mlp()
    before = model.get_weights()
    with pytest.raises(CheckpointError, match="holds a model with layers"):
        model.load(tmp_path / "other.npz")
    with pytest.raises(CheckpointError, match=r"is \(3, 4\) float32, the file holds \(3, 5\)"):
        model.load(tmp_path / "wider.npz")
    for name, value in model.get_weights().items():
        np.testing.assert_array_equal(value, before[name])
