"""Every layer's forward pass against an independent NumPy formula, and its gradients
(input: gd.check_gradients; weights: central differences on the variable values)."""

import numpy as np
import pytest

import graphdl as gd
from graphdl.checkpoint import assign_values

L = gd.nn
RNG = np.random.default_rng(0)


def run_layer(layer, x, training=False, backend="numpy"):
    """(output, {variable name suffix: value}) of ``layer`` on the float64 array x."""
    xt = gd.placeholder(x.shape, "float64", name="x")
    y = layer(xt, training=training)
    sess = gd.Session(backend=backend, seed=1)
    out = sess.run(y, {xt: x})
    weights = dict(zip([v.name.rsplit("/", 1)[-1] for v in layer.variables],
                       sess.run(layer.variables)))
    return out, weights


def check_weight_gradients(layer, x, eps=1e-6, rtol=1e-5):
    """gd.gradients of sum(u * layer(x)) w.r.t. each variable vs central differences."""
    xt = gd.placeholder(x.shape, "float64", name="x")
    y = layer(xt)
    u = RNG.standard_normal(y.shape)
    loss = gd.sum(y * u)
    grads = gd.gradients(loss, layer.variables)
    sess = gd.Session(seed=2)
    values = sess.run(layer.variables)
    symbolic = sess.run(grads, {xt: x})
    for var, value, g in zip(layer.variables, values, symbolic):
        direction = RNG.standard_normal(value.shape)

        def at(w, var=var):
            assign_values(sess, {var: w})
            return sess.run(loss, {xt: x})
        numeric = (at(value + eps * direction) - at(value - eps * direction)) / (2 * eps)
        assign_values(sess, {var: value})
        np.testing.assert_allclose(np.sum(g * direction), numeric, rtol=rtol, atol=1e-7,
                                   err_msg=var.name)


def _sigmoid(z):
    return 1 / (1 + np.exp(-z))


# -- dense, conv, pooling, flatten ------------------------------------------------------
def test_dense_matches_numpy(backend):
    x = RNG.standard_normal((5, 3))
    out, w = run_layer(L.Dense(4, activation="relu"), x, backend=backend)
    np.testing.assert_allclose(out, np.maximum(x @ w["W"] + w["b"], 0), rtol=1e-12)


def test_dense_gradients():
    layer_fn = L.Dense(3, activation="tanh")
    gd.check_gradients(lambda x: layer_fn(x), [RNG.standard_normal((4, 5))], order=2)
    check_weight_gradients(L.Dense(3, activation="sigmoid"), RNG.standard_normal((4, 5)))


def test_dense_names_its_scope_and_keeps_its_variables():
    x = gd.placeholder((None, 3))
    d1, d2 = L.Dense(2), L.Dense(2)
    d1(x), d2(x)
    assert [v.name for v in d1.variables] == ["dense/W", "dense/b"]
    assert [v.name for v in d2.variables] == ["dense_1/W", "dense_1/b"]
    d1(x)  # called again: same variables
    assert len(d1.variables) == 2 and len(gd.get_default_graph().variables()) == 4


def _conv_nchw(x, w, b, pad):
    x = np.pad(x, ((0, 0), (0, 0), (pad, pad), (pad, pad)))
    n, c, h, wd = x.shape
    o, _, kh, kw = w.shape
    out = np.zeros((n, o, h - kh + 1, wd - kw + 1))
    for i in range(out.shape[2]):
        for j in range(out.shape[3]):
            patch = x[:, :, i:i + kh, j:j + kw]
            out[:, :, i, j] = np.einsum("nchw,ochw->no", patch, w)
    return out + b[None, :, None, None]


@pytest.mark.parametrize("padding,pad", [("valid", 0), ("same", 1)])
def test_conv2d_matches_numpy(padding, pad, backend):
    x = RNG.standard_normal((2, 3, 6, 5))
    out, w = run_layer(L.Conv2D(4, 3, padding=padding, activation="relu"), x,
                       backend=backend)
    np.testing.assert_allclose(out, np.maximum(_conv_nchw(x, w["W"], w["b"], pad), 0),
                               rtol=1e-10)


def test_conv2d_nhwc_is_nchw_transposed():
    x = RNG.standard_normal((2, 6, 5, 3))
    out, w = run_layer(L.Conv2D(4, 3, data_format="NHWC"), x)
    expected = _conv_nchw(x.transpose(0, 3, 1, 2), w["W"], w["b"], 0).transpose(0, 2, 3, 1)
    np.testing.assert_allclose(out, expected, rtol=1e-10)


def test_conv2d_gradients():
    conv = L.Conv2D(2, 2, padding="same", activation="tanh")
    gd.check_gradients(lambda x: conv(x), [RNG.standard_normal((2, 2, 4, 3))])
    check_weight_gradients(L.Conv2D(2, 3, activation="tanh"), RNG.standard_normal((2, 2, 5, 4)))


def test_pooling_and_flatten_match_numpy():
    x = RNG.permutation(2 * 3 * 4 * 6).reshape(2, 3, 4, 6) / 10.0  # no ties
    mx, _ = run_layer(L.MaxPool2D(2), x)
    av, _ = run_layer(L.AvgPool2D(2), x)
    blocks = x.reshape(2, 3, 2, 2, 3, 2)
    np.testing.assert_allclose(mx, blocks.max(axis=(3, 5)))
    np.testing.assert_allclose(av, blocks.mean(axis=(3, 5)))
    nhwc, _ = run_layer(L.MaxPool2D(2, data_format="NHWC"), x.transpose(0, 2, 3, 1))
    np.testing.assert_allclose(nhwc, blocks.max(axis=(3, 5)).transpose(0, 2, 3, 1))
    flat, _ = run_layer(L.Flatten(), x)
    np.testing.assert_array_equal(flat, x.reshape(2, -1))
    gd.check_gradients(lambda t: L.MaxPool2D(2)(t) * 1.0, [x])
    gd.check_gradients(lambda t: L.AvgPool2D(2)(t), [x], order=2)


def test_dropout_only_while_training():
    x = np.ones((200, 50))
    layer = L.Dropout(0.25)
    flag = gd.placeholder((), "bool", name="training")
    xt = gd.placeholder(x.shape, "float64")
    y = layer(xt, training=flag)
    sess = gd.Session(seed=0)
    np.testing.assert_array_equal(sess.run(y, {xt: x, flag: False}), x)
    dropped = sess.run(y, {xt: x, flag: True})
    assert set(np.unique(dropped)) == {0.0, 1 / 0.75}
    assert abs((dropped == 0).mean() - 0.25) < 0.02
    assert L.Dropout(0.5)(xt) is xt  # training=False: identity, no node


# -- recurrent --------------------------------------------------------------------------
def _rnn_numpy(x, w):
    h = np.zeros((x.shape[0], w["U"].shape[0]))
    hs = []
    for t in range(x.shape[1]):
        h = np.tanh(x[:, t] @ w["W"] + h @ w["U"] + w["b"])
        hs.append(h)
    return np.stack(hs, 1)


def _lstm_numpy(x, w):
    u = w["U"].shape[0]
    h = c = np.zeros((x.shape[0], u))
    hs = []
    Wi, Wf, Wc, Wo = np.split(w["W"], 4, 1)
    Ui, Uf, Uc, Uo = np.split(w["U"], 4, 1)
    bi, bf, bc, bo = np.split(w["b"], 4)
    for t in range(x.shape[1]):
        xt = x[:, t]
        f = _sigmoid(xt @ Wf + h @ Uf + bf)   # seed 000 eq. 33
        i = _sigmoid(xt @ Wi + h @ Ui + bi)   # eq. 34
        o = _sigmoid(xt @ Wo + h @ Uo + bo)   # eq. 35
        c = f * c + i * np.tanh(xt @ Wc + h @ Uc + bc)  # eq. 36
        h = o * np.tanh(c)                    # eq. 37
        hs.append(h)
    return np.stack(hs, 1)


def _gru_numpy(x, w):
    u = w["Un"].shape[0]
    h = np.zeros((x.shape[0], u))
    hs = []
    Wz, Wr, Wn = np.split(w["W"], 3, 1)
    Uz, Ur = np.split(w["U"], 2, 1)
    bz, br, bn = np.split(w["b"], 3)
    for t in range(x.shape[1]):
        xt = x[:, t]
        z = _sigmoid(xt @ Wz + h @ Uz + bz)
        r = _sigmoid(xt @ Wr + h @ Ur + br)
        n = np.tanh(xt @ Wn + (r * h) @ w["Un"] + bn)
        h = z * h + (1 - z) * n
        hs.append(h)
    return np.stack(hs, 1)


RECURRENT = [(L.SimpleRNN, _rnn_numpy), (L.LSTM, _lstm_numpy), (L.GRU, _gru_numpy)]


@pytest.mark.parametrize("cls,reference", RECURRENT, ids=["rnn", "lstm", "gru"])
def test_recurrent_matches_numpy_over_time(cls, reference, backend):
    x = RNG.standard_normal((3, 5, 2))
    seq, w = run_layer(cls(4, return_sequences=True), x, backend=backend)
    np.testing.assert_allclose(seq, reference(x, w), rtol=1e-10, atol=1e-12)
    last, w = run_layer(cls(4), x, backend=backend)
    np.testing.assert_allclose(last, reference(x, w)[:, -1], rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("cls", [L.SimpleRNN, L.LSTM, L.GRU], ids=["rnn", "lstm", "gru"])
def test_recurrent_gradients_through_time(cls):
    layer = cls(3, return_sequences=True)
    gd.check_gradients(lambda x: layer(x), [RNG.standard_normal((2, 4, 2))])
    check_weight_gradients(cls(3), RNG.standard_normal((2, 4, 2)))


def test_recurrent_needs_a_known_time_axis():
    with pytest.raises(gd.ShapeError, match="batch, time, features"):
        L.LSTM(3)(gd.placeholder((None, None, 2)))


def test_unknown_activation_and_bad_units_are_errors():
    with pytest.raises(gd.GraphError, match="unknown activation 'relux'"):
        L.Dense(3, activation="relux")
    with pytest.raises(gd.GraphError, match="units must be a positive int"):
        L.Dense(0)
    with pytest.raises(gd.GraphError, match="data_format"):
        L.Conv2D(3, 3, data_format="CHWN")


def test_gate_biases_start_where_asked():
    x = RNG.standard_normal((2, 3, 2))
    _, w = run_layer(L.LSTM(2, forget_bias=3.0), x)
    np.testing.assert_array_equal(w["b"], [0, 0, 3, 3, 0, 0, 0, 0])  # blocks i, f, c, o
    _, w = run_layer(L.GRU(2, update_bias=2.0), x)
    np.testing.assert_array_equal(w["b"], [2, 2, 0, 0, 0, 0])  # blocks z, r, n
