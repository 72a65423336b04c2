"""Keras-style training: compile, fit, evaluate, predict, callbacks, History, losses."""

import sys
import xml.etree.ElementTree as ET

import numpy as np
import pytest

import graphdl as gd

L = gd.nn


def blobs(n=120, seed=0):
    """Three separable Gaussian blobs in 2-D: (X float32, labels int64)."""
    rng = np.random.default_rng(seed)
    y = rng.integers(0, 3, n)
    centers = np.array([[2.0, 0.0], [-2.0, 1.0], [0.0, -2.5]])
    return (centers[y] + 0.5 * rng.standard_normal((n, 2))).astype("float32"), y


def mlp(**kw):
    model = L.Sequential([L.Dense(16, activation="relu"), L.Dropout(0.1),
                          L.Dense(3, activation="softmax")], **kw)
    model.compile(gd.optim.Adam(0.05), "sparse_categorical_crossentropy", ["accuracy"])
    return model


def test_fit_evaluate_predict(backend):
    X, y = blobs()
    model = mlp()
    model.compile(gd.optim.Adam(0.05), "sparse_categorical_crossentropy", ["accuracy"],
                  backend=backend)
    history = model.fit(X, y, epochs=8, batch_size=16, validation_split=0.25, verbose=0)
    assert set(history.history) == {"loss", "accuracy", "val_loss", "val_accuracy"}
    assert history.epoch == list(range(8)) and len(history.epoch_times) == 8
    assert history.history["loss"][-1] < history.history["loss"][0] / 3
    loss, acc = model.evaluate(X, y)
    assert acc > 0.95
    probs = model.predict(X, batch_size=7)
    assert probs.shape == (120, 3)
    np.testing.assert_allclose(probs.sum(1), 1, rtol=1e-5)
    # evaluate's accuracy is predict's argmax accuracy (no dropout in either)
    assert acc == pytest.approx(np.mean(probs.argmax(1) == y))
    assert model.session.backend.name == backend


def test_one_hot_labels_and_validation_data():
    X, y = blobs()
    model = L.Sequential([L.Dense(3, activation="softmax")])
    model.compile("sgd", "categorical_crossentropy", ["accuracy"])
    onehot = np.eye(3, dtype="float32")[y]
    h = model.fit(X[:90], onehot[:90], epochs=2, validation_data=(X[90:], onehot[90:]),
                  verbose=0)
    assert len(h.history["val_accuracy"]) == 2
    assert isinstance(model.evaluate(X, onehot, return_dict=True)["loss"], float)


def test_default_backend_is_the_fastest_registered(monkeypatch):
    monkeypatch.setenv("GRAPHDL_BACKEND", "reference")
    assert L.default_backend() == "reference"  # the environment chooses when set
    monkeypatch.delenv("GRAPHDL_BACKEND")
    names = gd.backends.available_backends()
    expected = next(n for n in L.model.FASTEST_FIRST if n in names)
    assert L.default_backend() == expected
    model = mlp()
    model.fit(*blobs(20), epochs=1, verbose=0)
    assert model.session.backend.name == expected


def test_early_stopping_and_restore_best_weights():
    X, y = blobs()
    model = mlp()
    seen = []
    record = L.LambdaCallback(on_epoch_end=lambda e, logs: seen.append(model.get_weights()))
    # loss falls every epoch, so in "max" mode only epoch 0 is an improvement
    stop = L.EarlyStopping(monitor="loss", mode="max", patience=1, restore_best_weights=True)
    history = model.fit(X, y, epochs=10, callbacks=[record, stop], verbose=0)
    assert history.epoch == [0, 1, 2] and stop.stopped_epoch == 2 and stop.best_epoch == 0
    for name, value in model.get_weights().items():
        np.testing.assert_array_equal(value, seen[0][name])
    with pytest.raises(gd.GraphError, match="'val_loss' is not logged"):
        model.fit(X, y, epochs=1, callbacks=[L.EarlyStopping()], verbose=0)


def test_progress_bar_shows_live_loss_on_a_terminal(capsys, monkeypatch):
    X, y = blobs(40)
    model = mlp()
    model.fit(X, y, epochs=1, verbose=1)
    assert capsys.readouterr().err == ""  # not a terminal: quiet
    monkeypatch.setattr(sys.stderr, "isatty", lambda: True)
    model.fit(X, y, epochs=2, batch_size=8, verbose=1)
    err = capsys.readouterr().err
    assert "Epoch 2/2" in err and "loss=" in err and "accuracy=" in err and "5/5" in err
    model.fit(X, y, epochs=1, verbose=2)
    assert "epoch 1/1" in capsys.readouterr().out


def test_history_plot_writes_png_and_svg(tmp_path):
    X, y = blobs(60)
    history = mlp().fit(X, y, epochs=3, validation_split=0.2, verbose=0)
    png = history.plot(tmp_path / "curves.png")
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    ET.parse(history.plot(tmp_path / "sub" / "curves.svg"))
    assert sorted(p.name for p in tmp_path.iterdir()) == ["curves.png", "sub"]  # no temp left
    with pytest.raises(gd.GraphError, match=r"\.png or \.svg"):
        history.plot(tmp_path / "curves.jpg")


def test_regularized_loss_includes_the_penalty():
    X, y = blobs(30)
    model = L.Sequential([L.Dense(3, kernel_regularizer=gd.losses.L2(0.5))])
    model.compile("sgd", lambda t, p: gd.losses.categorical_crossentropy(t, p, from_logits=True))
    onehot = np.eye(3, dtype="float32")[y]
    total = model.evaluate(X, onehot)
    W = model.get_weights()["sequential/dense/W"]
    logits = X @ W
    logp = logits - np.log(np.exp(logits).sum(1, keepdims=True))
    data = -np.mean((onehot * logp).sum(1))
    assert total == pytest.approx(data + 0.5 * np.sum(W ** 2), rel=1e-5)


def test_model_errors():
    X, y = blobs(10)
    model = L.Sequential([L.Dense(3)])
    with pytest.raises(gd.GraphError, match="call model.compile"):
        model.fit(X, y)
    model.compile("adam", "mse")
    with pytest.raises(gd.GraphError, match="X has 10 rows but Y has 9"):
        model.fit(X, y[:9])
    with pytest.raises(gd.GraphError, match="not a gd.nn layer"):
        L.Sequential([lambda x: x])
    with pytest.raises(gd.GraphError, match="unknown loss"):
        model.compile("adam", "hinge")


# -- losses and metrics against NumPy ---------------------------------------------------
def _run(t, feed=None):
    return gd.Session().run(t, feed)


def test_losses_match_numpy():
    rng = np.random.default_rng(3)
    logits = rng.standard_normal((5, 4))
    p = np.exp(logits) / np.exp(logits).sum(1, keepdims=True)
    labels = rng.integers(0, 4, 5)
    onehot = np.eye(4)[labels]
    lt = gd.constant(logits)
    ce = -np.mean(np.log(p[np.arange(5), labels]))
    for y_pred, kw in ((gd.softmax(lt), {}), (lt, {"from_logits": True}),
                       (gd.constant(p), {})):  # softmax output, logits, bare probabilities
        assert _run(gd.losses.categorical_crossentropy(onehot, y_pred, **kw)) == \
            pytest.approx(ce, rel=1e-6)
        assert _run(gd.losses.sparse_categorical_crossentropy(labels, y_pred, **kw)) == \
            pytest.approx(ce, rel=1e-6)
    z = (rng.random((5, 4)) > 0.5) * 1.0
    s = 1 / (1 + np.exp(-logits))
    bce = -np.mean(z * np.log(s) + (1 - z) * np.log(1 - s))
    for y_pred, kw in ((gd.sigmoid(lt), {}), (lt, {"from_logits": True}),
                       (gd.constant(s), {})):
        assert _run(gd.losses.binary_crossentropy(z, y_pred, **kw)) == \
            pytest.approx(bce, rel=1e-6)
    assert _run(gd.losses.mse(z, lt)) == pytest.approx(np.mean((z - logits) ** 2))
    assert _run(gd.losses.l1_penalty([lt, lt], 0.1)) == pytest.approx(
        0.2 * np.abs(logits).sum())


def test_cross_entropy_of_a_saturated_softmax_stays_finite():
    logits = gd.constant(np.array([[1000.0, -1000.0]]))
    loss = gd.losses.categorical_crossentropy(np.array([[0.0, 1.0]]), gd.softmax(logits))
    assert _run(loss) == pytest.approx(2000.0)
    g = _run(gd.gradients(loss, logits))
    np.testing.assert_allclose(g, [[1.0, -1.0]])


def test_accuracy_reads_labels_like_keras():
    scores = np.array([[0.1, 0.9], [0.8, 0.2], [0.3, 0.7]])
    assert _run(gd.metrics.accuracy(np.array([1, 1, 1]), scores)) == pytest.approx(2 / 3)
    assert _run(gd.metrics.accuracy(np.eye(2)[[1, 0, 0]], scores)) == pytest.approx(2 / 3)
    assert _run(gd.metrics.accuracy(np.array([[1.0], [0.0]]), np.array([[0.7], [0.6]]))) \
        == pytest.approx(0.5)


def test_binary_classifier_with_integer_labels():
    X, y = blobs(80)
    y = (y == 0).astype("int64")[:, None]  # (N, 1) ints 0/1
    model = L.Sequential([L.Dense(8, activation="tanh"), L.Dense(1, activation="sigmoid")])
    model.compile(gd.optim.Adam(0.05), "binary_crossentropy", ["accuracy"])
    model.fit(X, y, epochs=10, verbose=0)
    loss, acc = model.evaluate(X, y)
    assert model.loss.dtype == np.float32 and acc > 0.95


def test_initializers_chosen_per_layer():
    x = gd.placeholder((None, 400))
    he = L.Dense(300, kernel_initializer="he_normal")
    glorot = L.Dense(300)
    he(x), glorot(x)
    W_he, W_gl = gd.Session(seed=0).run([he.W, glorot.W])
    assert np.std(W_he) == pytest.approx(np.sqrt(2 / 400), rel=0.03)
    limit = np.sqrt(6 / 700)
    assert np.abs(W_gl).max() <= limit and np.std(W_gl) == pytest.approx(limit / np.sqrt(3),
                                                                         rel=0.03)
    rnn = L.SimpleRNN(5)
    rnn(gd.placeholder((None, 3, 2)))
    U = gd.Session(seed=0).run(rnn.U)
    np.testing.assert_allclose(U @ U.T, np.eye(5), atol=1e-5)  # orthogonal recurrent weights


def test_input_shape_on_the_first_layer_builds_the_model_and_summary(capsys):
    model = L.Sequential([L.Flatten(input_shape=(4, 2)), L.Dense(3, activation="relu"),
                          L.Dense(2)])
    assert model.input.shape == (None, 4, 2) and model.output.shape == (None, 2)
    model.summary()
    out = capsys.readouterr().out
    assert "flatten (Flatten)" in out and "(?, 8)" in out and "dense_1 (Dense)" in out
    assert "total params: 35" in out  # 8*3 + 3 + 3*2 + 2
