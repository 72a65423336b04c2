"""gradients(): fan-out, broadcasting, unconnected inputs, second order, marking."""

import numpy as np
import pytest

import graphdl as gd


def test_fan_out_sums():
    x = gd.placeholder((3,), "float64", name="x")
    y = gd.sum(x * x + x)  # x used three times
    g = gd.gradients(y, x)
    val = np.array([1.0, -2.0, 0.5])
    assert np.allclose(gd.Session().run(g, {x: val}), 2 * val + 1)


def test_broadcasting_reduces_back_to_input_shape():
    x = gd.placeholder((None, 3), "float64", name="x")
    b = gd.Variable(np.zeros((1, 3)), name="b")
    c = gd.Variable(0.0, dtype="float64", name="c")
    gb, gc = gd.gradients(gd.sum(x + b + c), [b, c])
    assert gb.shape == (1, 3) and gc.shape == ()
    vb, vc = gd.Session().run([gb, gc], {x: np.ones((4, 3))})
    assert vb.tolist() == [[4.0, 4.0, 4.0]] and vc == 12.0


def test_unconnected_none_or_zero():
    x = gd.placeholder((2,), name="x")
    z = gd.placeholder((2,), name="z")
    y = gd.sum(x * 2.0)
    assert gd.gradients(y, [x, z])[1] is None
    zero = gd.gradients(y, [z], unconnected="zero")[0]
    assert gd.Session().run(zero, {z: [1.0, 2.0]}).tolist() == [0.0, 0.0]


def test_gradient_nodes_are_marked_and_scoped():
    x = gd.placeholder((2,), name="x")
    y = gd.sum(gd.sigmoid(x))
    g = gd.gradients(y, x)
    assert g.node.is_gradient and g.name.startswith("gradients/")
    assert not y.node.is_gradient


def test_grad_ys_seed():
    x = gd.placeholder((2,), "float64", name="x")
    y = x * 3.0
    g = gd.gradients(y, x, grad_ys=gd.constant(np.array([1.0, 10.0])))
    assert gd.Session().run(g, {x: [0.0, 0.0]}).tolist() == [3.0, 30.0]


def test_second_order_of_a_small_mlp():
    rng = np.random.default_rng(0)

    def mlp(x, w1, w2):
        return gd.sum(gd.tanh(gd.sigmoid(x @ w1) @ w2))

    gd.check_gradients(mlp, [rng.standard_normal((3, 4)), rng.standard_normal((4, 5)),
                             rng.standard_normal((5, 2))], order=2)


def test_hessian_vector_product_of_quadratic():
    x = gd.placeholder((3,), "float64", name="x")
    A = np.array([[2.0, 1.0, 0.0], [1.0, 3.0, 1.0], [0.0, 1.0, 4.0]])
    quad = 0.5 * gd.sum(x * gd.sum(gd.constant(A) * x, axis=1))
    (g,) = gd.gradients(quad, [x])
    v = gd.constant(np.array([1.0, 0.0, -1.0]))
    (hv,) = gd.gradients(gd.sum(g * v), [x])
    out = gd.Session().run(hv, {x: [0.3, 0.1, 0.2]})
    assert np.allclose(out, A @ np.array([1.0, 0.0, -1.0]))


def test_relu_second_derivative_is_zero_not_an_error():
    x = gd.placeholder((3,), "float64", name="x")
    (g,) = gd.gradients(gd.sum(gd.relu(x)), [x])
    (h,) = gd.gradients(gd.sum(g), [x])
    assert h is None


def test_stop_gradient_blocks_without_error():
    x = gd.placeholder((2,), name="x")
    y = gd.sum(gd.stop_gradient(x) * 2.0)
    assert gd.gradients(y, x) is None


def test_check_gradients_catches_a_wrong_rule():
    from graphdl.ops.base import OpDef, apply

    class WrongSquare(OpDef):
        name = "wrong_square"

        def infer(self, x):
            return [(x.shape, x.dtype)]

        def forward(self, x):
            return x * x

        def vjp(self, node, g):
            return [g * node.inputs[0]]  # should be 2 * x * g

    op = WrongSquare()
    with pytest.raises(gd.GradientCheckError, match="mismatch"):
        gd.check_gradients(lambda x: apply(op, [x]), [np.array([1.0, 2.0])])
