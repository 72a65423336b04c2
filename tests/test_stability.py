"""Numerical stability on every backend: extreme logits, -inf masks, probabilities 0 and 1
give finite values and finite gradients wherever the mathematics has them (issue #9)."""

import numpy as np
import pytest

import graphdl as gd

DTYPES = ["float32", "float64"]
EXTREME = [[1000.0, -1000.0, 0.0], [-1000.0, -1000.0, -999.0], [1000.0, 1000.0, 999.0]]


def _value_and_grad(backend, dtype, build, data, extra=None):
    x = gd.placeholder(np.shape(data), dtype, name="x")
    y = build(x)
    u = np.linspace(0.5, 1.5, int(np.prod(y.shape)) or 1).reshape(y.shape).astype(dtype)
    (g,) = gd.gradients(gd.sum(y * u), [x])
    feed = {x: np.asarray(data, dtype)}
    return gd.Session(backend=backend, check_numerics=False).run([y, g], feed)


def _finite(*arrays):
    for a in arrays:
        assert np.all(np.isfinite(a)), a


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("fn", ["softmax", "log_softmax", "logsumexp"])
def test_softmax_family_at_extreme_logits(backend, dtype, fn):
    build = {"softmax": gd.softmax, "log_softmax": gd.log_softmax,
             "logsumexp": lambda x: gd.logsumexp(x, axis=-1)}[fn]
    y, g = _value_and_grad(backend, dtype, build, EXTREME)
    _finite(y, g)
    if fn == "softmax":
        np.testing.assert_allclose(y.sum(-1), 1.0, rtol=1e-6)
    if fn == "logsumexp":
        np.testing.assert_allclose(y, [1000.0, -999.0 + np.log1p(2 * np.exp(-1.0)),
                                       1000.0 + np.log(2 + np.exp(-1.0))], rtol=1e-6)


@pytest.mark.parametrize("dtype", DTYPES)
def test_softmax_with_minus_inf_masks(backend, dtype):
    logits = [[0.0, -np.inf, 1.0], [-np.inf, 5.0, -np.inf]]
    y, g = _value_and_grad(backend, dtype, gd.softmax, logits)
    _finite(y, g)
    np.testing.assert_allclose(y[1], [0.0, 1.0, 0.0])
    assert y[0, 1] == 0.0
    ly, lg = _value_and_grad(backend, dtype, gd.log_softmax, logits)
    _finite(lg)
    masked = np.isinf(np.asarray(logits))
    assert np.all(ly[masked] == -np.inf) and np.all(np.isfinite(ly[~masked]))


@pytest.mark.parametrize("dtype", DTYPES)
def test_cross_entropies_at_extreme_logits_and_masks(backend, dtype):
    onehot = np.array([[1.0, 0.0, 0.0], [0.0, 0.0, 1.0], [0.0, 1.0, 0.0]])
    labels = np.array([0, 2, 1])
    for data in (EXTREME, [[1000.0, -np.inf, 0.0], [-np.inf, 2.0, 3.0], [0.0, 7.0, -np.inf]]):
        y, g = _value_and_grad(backend, dtype,
                               lambda x: gd.softmax_cross_entropy(x, gd.constant(
                                   onehot.astype(dtype))), data)
        _finite(y, g)
        y2, g2 = _value_and_grad(backend, dtype,
                                 lambda x: gd.sparse_softmax_cross_entropy(
                                     x, gd.constant(labels)), data)
        _finite(y2, g2)
        np.testing.assert_allclose(y, y2, rtol=1e-6)
    y, _ = _value_and_grad(backend, dtype, lambda x: gd.sparse_softmax_cross_entropy(
        x, gd.constant(labels)), EXTREME)
    np.testing.assert_allclose(y, [0.0, np.log1p(2 * np.exp(-1.0)), np.log(2 + np.exp(-1.0))],
                               rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("fn", ["sigmoid", "softplus", "sigmoid_cross_entropy"])
def test_sigmoid_family_at_plus_minus_1000(backend, dtype, fn):
    data = [1000.0, -1000.0, 0.0, 80.0, -80.0]
    labels = np.array([0.0, 1.0, 1.0, 1.0, 0.0])
    build = {"sigmoid": gd.sigmoid, "softplus": gd.softplus,
             "sigmoid_cross_entropy": lambda x: gd.sigmoid_cross_entropy(
                 x, gd.constant(labels.astype(dtype)))}[fn]
    y, g = _value_and_grad(backend, dtype, build, data)
    _finite(y, g)
    if fn == "sigmoid_cross_entropy":
        np.testing.assert_allclose(y[:3], [1000.0, 1000.0, np.log(2.0)], rtol=1e-6)
    if fn == "softplus":
        np.testing.assert_allclose(y[:2], [1000.0, 0.0], atol=1e-30)


@pytest.mark.parametrize("dtype", DTYPES)
def test_losses_of_probabilities_0_and_1(backend, dtype):
    probs = [[1.0, 0.0, 0.0], [0.0, 0.0, 1.0]]
    onehot = gd.constant(np.array([[1.0, 0.0, 0.0], [1.0, 0.0, 0.0]], dtype))
    y, g = _value_and_grad(backend, dtype,
                           lambda p: gd.losses.categorical_crossentropy(onehot, p), probs)
    _finite(y, g)
    binary = [1.0, 0.0, 1.0, 0.0]
    truth = gd.constant(np.array([1.0, 0.0, 0.0, 1.0], dtype))
    y, g = _value_and_grad(backend, dtype,
                           lambda p: gd.losses.binary_crossentropy(truth, p), binary)
    _finite(y, g)
    y, g = _value_and_grad(backend, dtype,
                           lambda p: gd.losses.sparse_categorical_crossentropy(
                               gd.constant(np.array([0, 1])), p), probs)
    _finite(y, g)
