"""Each optimizer's update rule against steps computed by hand in NumPy.

The loss is Σ c·w², so the gradient at w is 2·c·w; two steps are run, so slots
(momentum, moving averages) and the step counter are exercised too.
"""

import numpy as np
import pytest

import graphdl as gd

W0 = np.array([1.0, -2.0, 0.5])
C = np.array([0.5, 1.0, 2.0])


def steps(optimizer, n=2):
    w = gd.Variable(W0.copy(), name="w")
    loss = gd.sum(C * w * w)
    train = optimizer.minimize(loss)
    sess = gd.Session()
    out = []
    for _ in range(n):
        sess.run(train)
        out.append(sess.run(w))
    return out


def grad(w):
    return 2 * C * w


def test_minimize_returns_one_op_with_slots_as_variables():
    w = gd.Variable(W0.copy(), name="w")
    opt = gd.optim.Adam()
    train = opt.minimize(gd.sum(w * w))
    assert isinstance(train, gd.Node) and train.op.name == "group"
    names = [v.name for v in gd.get_default_graph().variables()]
    assert names == ["w", "Adam/iterations", "Adam/w/m", "Adam/w/v"]
    assert [v.name for v in gd.get_default_graph().trainable_variables()] == ["w"]


def test_sgd():
    lr = 0.1
    w1 = W0 - lr * grad(W0)
    got = steps(gd.optim.SGD(lr))
    np.testing.assert_allclose(got[0], w1)
    np.testing.assert_allclose(got[1], w1 - lr * grad(w1))


def test_sgd_momentum_seed003():
    lr, m = 0.1, 0.9
    v1 = -lr * grad(W0)
    w1 = W0 + v1
    v2 = m * v1 - lr * grad(w1)
    got = steps(gd.optim.SGD(lr, momentum=m))
    np.testing.assert_allclose(got[0], w1)
    np.testing.assert_allclose(got[1], w1 + v2)


def test_sgd_nesterov():
    lr, m = 0.1, 0.9
    v1 = -lr * grad(W0)
    w1 = W0 + m * v1 - lr * grad(W0)
    v2 = m * v1 - lr * grad(w1)
    w2 = w1 + m * v2 - lr * grad(w1)
    got = steps(gd.optim.SGD(lr, momentum=m, nesterov=True))
    np.testing.assert_allclose(got, [w1, w2])


def test_rmsprop():
    lr, rho, eps = 0.01, 0.9, 1e-7
    w, s, expected = W0, 0.0, []
    for _ in range(2):
        g = grad(w)
        s = rho * s + (1 - rho) * g * g
        w = w - lr * g / (np.sqrt(s) + eps)
        expected.append(w)
    np.testing.assert_allclose(steps(gd.optim.RMSProp(lr)), expected, rtol=1e-6)


def test_adam():
    lr, b1, b2, eps = 0.01, 0.9, 0.999, 1e-7
    w, m, v, expected = W0, 0.0, 0.0, []
    for t in (1, 2, 3):
        g = grad(w)
        m = b1 * m + (1 - b1) * g
        v = b2 * v + (1 - b2) * g * g
        w = w - lr * (m / (1 - b1 ** t)) / (np.sqrt(v / (1 - b2 ** t)) + eps)
        expected.append(w)
    np.testing.assert_allclose(steps(gd.optim.Adam(lr), 3), expected, rtol=1e-5)


def test_learning_rate_schedules_are_graph_values():
    sched = gd.optim.ExponentialDecay(0.1, decay_steps=1, decay_rate=0.5)
    w1 = W0 - 0.1 * grad(W0)
    w2 = w1 - 0.05 * grad(w1)
    np.testing.assert_allclose(steps(gd.optim.SGD(sched)), [w1, w2], rtol=1e-6)
    piece = gd.optim.PiecewiseConstant([1], [0.1, 0.01])
    w2 = w1 - 0.01 * grad(w1)
    np.testing.assert_allclose(steps(gd.optim.SGD(piece)), [w1, w2], rtol=1e-6)


def test_learning_rate_placeholder():
    lr = gd.placeholder((), name="lr")
    w = gd.Variable(W0.copy(), name="w")
    train = gd.optim.SGD(lr).minimize(gd.sum(C * w * w))
    sess = gd.Session()
    sess.run(train, {lr: 0.2})
    np.testing.assert_allclose(sess.run(w), W0 - 0.2 * grad(W0), rtol=1e-6)


def test_minimize_errors():
    w = gd.Variable(W0.copy(), name="w")
    other = gd.Variable(W0.copy(), name="other")
    with pytest.raises(gd.GraphError, match="depends on none of the variables"):
        gd.optim.SGD(0.1).minimize(gd.sum(w * w), var_list=[other])
    with pytest.raises(gd.GraphError, match="momentum must be in"):
        gd.optim.SGD(0.1, momentum=1.5)
    with pytest.raises(gd.GraphError, match="unknown optimizer"):
        gd.optim.get("adamw")


def test_clipnorm_rescales_each_gradient():
    lr = 0.1
    g0 = grad(W0)  # norm ≈ 4.15: clipped to 1
    w1 = W0 - lr * g0 / np.linalg.norm(g0)
    got = steps(gd.optim.SGD(lr, clipnorm=1.0), n=1)
    np.testing.assert_allclose(got[0], w1, rtol=1e-6)
    unclipped = steps(gd.optim.SGD(lr, clipnorm=100.0), n=1)  # under the limit: unchanged
    np.testing.assert_allclose(unclipped[0], W0 - lr * g0, rtol=1e-6)
    with pytest.raises(gd.GraphError, match="clipnorm must be positive"):
        gd.optim.Adam(clipnorm=0)
