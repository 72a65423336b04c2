"""Cases that used to give silently wrong numbers (issue #9, first part).

Each test here failed on the engine before its fix. Tests that execute graphs take
the ``backend`` fixture, so every registered backend keeps the same rules.
"""

import numpy as np
import pytest

import graphdl as gd


# -- gradients for any set of xs ----------------------------------------------------
def _mlp(rng):
    x = gd.constant(rng.standard_normal((4, 3)))
    w1 = gd.Variable(rng.standard_normal((3, 5)), name="W1")
    w2 = gd.Variable(rng.standard_normal((5, 2)), name="W2")
    h = gd.matmul(x, w1, name="h")
    a = gd.tanh(h)
    out = gd.matmul(a, w2, name="out")
    loss = gd.sum(out * out)
    return loss, w1, w2, h, a, out


def test_per_layer_deltas_and_weight_gradients_in_one_call(backend):
    """Seed 000, Algorithm 2: deltas (d loss / d h) and weight gradients together."""
    loss, w1, w2, h, a, out = _mlp(np.random.default_rng(0))
    together = gd.gradients(loss, [out, h, a, w1, w2])
    apart = [gd.gradients(loss, t) for t in (out, h, a, w1, w2)]
    assert all(g is not None for g in together)
    sess = gd.Session(backend=backend, seed=1)
    got, want = sess.run([together, apart])
    for g, w in zip(got, want):
        np.testing.assert_allclose(g, w, rtol=1e-12)


def test_x_below_another_x_still_gets_its_gradient(backend):
    x = gd.placeholder((3,), "float64", name="x")
    h = x * 2.0
    y = gd.sum(h * h)
    gh, gx = gd.gradients(y, [h, x], unconnected="zero")
    value = np.array([1.0, -2.0, 0.5])
    got_h, got_x = gd.Session(backend=backend).run([gh, gx], {x: value})
    np.testing.assert_allclose(got_h, 2 * (2 * value))
    np.testing.assert_allclose(got_x, 8 * value)


# -- dtypes and ranges ---------------------------------------------------------------
def test_sum_of_bools_counts_as_int64(backend):
    b = gd.placeholder((None, 3), "bool")
    total, per_row = gd.sum(b), gd.sum(b, axis=1)
    assert total.dtype == np.int64 and per_row.dtype == np.int64
    data = np.array([[True, False, True], [True, True, True]])
    got_total, got_rows = gd.Session(backend=backend).run([total, per_row], {b: data})
    assert got_total == 5 and got_total.dtype == np.int64
    np.testing.assert_array_equal(got_rows, [2, 3])


@pytest.mark.parametrize("dtype,value", [
    ("int32", [2**40, 1]), ("int32", [-2**31 - 1]), ("int8", [128]), ("uint8", [-1]),
    ("int64", np.array([2**63 + 5], dtype=np.uint64)),
])
def test_out_of_range_integer_feed_is_an_error_naming_the_placeholder(dtype, value):
    p = gd.placeholder((None,), dtype, name="labels")
    with pytest.raises(gd.FeedError, match=r"'labels'.*out of the range"):
        gd.Session().run(p, {p: value})


def test_in_range_integer_feeds_still_convert(backend):
    p = gd.placeholder((None,), "int8", name="small")
    got = gd.Session(backend=backend).run(p, {p: np.array([-128, 127], dtype=np.int64)})
    assert got.dtype == np.int8 and list(got) == [-128, 127]


@pytest.mark.parametrize("value", [0.5, np.float64(1.0), np.array([0.5, 0.5])])
def test_float_value_for_an_int_variable_is_a_build_time_dtype_error(value):
    step = gd.Variable(np.zeros(2, "int32"), name="step")
    for build in (gd.assign, gd.assign_add, gd.assign_sub):
        with pytest.raises(gd.DTypeError, match="'step'"):
            build(step, value)
    with pytest.raises(gd.DTypeError, match="'step'"):
        gd.assign_add(step, gd.constant(np.ones(2)))


def test_int_value_for_an_int_variable_still_counts(backend):
    step = gd.Variable(0, dtype="int64", name="step")
    inc = gd.assign_add(step, 1)
    sess = gd.Session(backend=backend)
    for _ in range(3):
        sess.run(inc)
    assert sess.run(step) == 3


# -- grad_ys -------------------------------------------------------------------------
def test_grad_ys_of_the_wrong_static_shape_is_an_error():
    x = gd.placeholder((3, 2), "float64")
    y = x * 2.0
    for bad in (np.ones(2), np.ones((1, 2)), np.ones((3, 2, 1))):
        with pytest.raises(gd.ShapeError, match="grad_y"):
            gd.gradients(y, x, grad_ys=bad)


def test_grad_ys_unknown_dims_are_checked_at_run_time(backend):
    x = gd.placeholder((None, 2), "float64", name="x")
    gy = gd.placeholder((None, 2), "float64", name="gy")
    g = gd.gradients(x * 3.0, x, grad_ys=gy)
    sess = gd.Session(backend=backend)
    np.testing.assert_allclose(sess.run(g, {x: np.ones((4, 2)), gy: np.ones((4, 2))}), 3.0)
    with pytest.raises(gd.ShapeError, match="grad_y"):
        sess.run(g, {x: np.ones((4, 2)), gy: np.ones((1, 2))})


def test_a_bare_array_is_one_grad_y(backend):
    x = gd.placeholder((2, 2), "float64")
    seed = np.array([[1.0, 2.0], [3.0, 4.0]])
    g = gd.gradients(x * 2.0, x, grad_ys=seed)
    got = gd.Session(backend=backend).run(g, {x: np.zeros((2, 2))})
    np.testing.assert_allclose(got, 2 * seed)


# -- check_gradients -------------------------------------------------------------------
@pytest.mark.parametrize("fn,point", [
    (lambda x: gd.where(x > 0, gd.sqrt(x), 0.0 * x), [-1.0, 4.0]),
    (lambda x: gd.sqrt(x * x), [0.0, 1.0]),
])
def test_check_gradients_fails_on_nan_or_inf_naming_the_input(fn, point):
    with pytest.raises(gd.GradientCheckError, match=r"'x0'.*(NaN|not finite)"):
        gd.check_gradients(fn, [np.array(point)])


def test_check_gradients_hints_at_a_kink():
    with pytest.raises(gd.GradientCheckError, match="kink"):
        gd.check_gradients(gd.relu, [np.array([0.0, 0.0, 0.0])])


def test_check_gradients_names_the_failing_input():
    from graphdl.ops.base import OpDef, apply

    class WrongMul(OpDef):  # right forward, gradient for the second input doubled
        name = "wrong_mul_for_test"

        def infer(self, a, b):
            return [(a.shape, a.dtype)]

        def forward(self, a, b):
            return a * b

        def vjp(self, node, g):
            a, b = node.inputs
            return [g * b, 2.0 * g * a]

    op = WrongMul()
    with pytest.raises(gd.GradientCheckError, match="'x1'"):
        gd.check_gradients(lambda a, b: apply(op, [a, b]), [np.ones(3) * 0.5, np.ones(3)])


@pytest.mark.parametrize("kwargs,error", [
    ({"order": 3}, gd.GraphError), ({"order": 0}, gd.GraphError),
    ({"eps": 0.0}, gd.GraphError), ({"eps": -1e-6}, gd.GraphError),
    ({"eps": float("nan")}, gd.GraphError), ({"dtype": "int32"}, gd.DTypeError),
    ({"dtype": "float16"}, gd.DTypeError), ({"rtol": -1.0}, gd.GraphError),
])
def test_check_gradients_validates_its_options(kwargs, error):
    with pytest.raises(error):
        gd.check_gradients(gd.tanh, [np.ones(2)], **kwargs)


# -- names -----------------------------------------------------------------------------
def test_names_are_unique_even_when_a_suffixed_name_came_first(fresh_graph):
    a = gd.placeholder((), name="x_1")
    b = gd.placeholder((), name="x")
    c = gd.placeholder((), name="x")
    d = gd.placeholder((), name="x_1")
    names = [t.name for t in (a, b, c, d)]
    assert len(set(names)) == 4, names
    assert fresh_graph.get_tensor("x_1") is a


@pytest.mark.parametrize("bad", ["x\n", "x\ny", "a b", "x:1"])
def test_names_with_newlines_or_odd_characters_are_rejected(bad):
    with pytest.raises(gd.GraphError, match="invalid name"):
        gd.placeholder((), name=bad)
    with pytest.raises(gd.GraphError, match="invalid name scope"):
        with gd.name_scope(bad):
            pass
