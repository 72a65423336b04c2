"""``Session(check_numerics=True)`` on every backend: the first NaN/inf is named with its
op, inputs and the user's line that built it; the run changes no variable."""

import numpy as np
import pytest

import graphdl as gd


def test_the_origin_of_a_nan_is_named_with_op_inputs_and_line(backend):
    x = gd.placeholder((3,), "float64", name="x")
    h = x * 2.0
    root = gd.sqrt(h, name="root")  # NaN for negative x: this line is reported
    line = root.node.created_at[1]
    y = gd.tanh(root) + 1.0
    sess = gd.Session(backend=backend, check_numerics=True)
    np.testing.assert_allclose(sess.run(y, {x: np.ones(3)}), np.tanh(np.sqrt(2.0)) + 1.0)
    with pytest.raises(gd.NumericsError) as err:
        sess.run(y, {x: np.array([1.0, -1.0, 2.0])})
    text = str(err.value)
    assert "'root'" in text and "op sqrt" in text and "'mul'" in text
    assert f"test_numerics.py:{line}" in text


def test_a_masked_nan_is_not_reported(backend):
    x = gd.placeholder((2,), "float64", name="x")
    y = gd.where(x > 0, gd.sqrt(x), 0.0 * x)
    sess = gd.Session(backend=backend, check_numerics=True)
    np.testing.assert_allclose(sess.run(y, {x: np.array([4.0, -1.0])}), [2.0, 0.0])


def test_a_nan_update_is_caught_and_changes_no_variable(backend):
    # on cuda the update stays on the device: the backend checks it there
    w = gd.Variable(np.ones(2), name="w")
    x = gd.placeholder((2,), "float64", name="x")
    step = gd.assign_sub(w, gd.log(x, name="logx"))
    sess = gd.Session(backend=backend, check_numerics=True)
    with pytest.raises(gd.NumericsError, match="'logx'.*op log"):
        sess.run(step.node, {x: np.array([1.0, -1.0])})
    np.testing.assert_array_equal(sess.run(w), np.ones(2))


def test_a_nan_fetch_discards_the_finite_updates_of_its_run(backend):
    w = gd.Variable(np.ones(2), name="w")
    x = gd.placeholder((2,), "float64", name="x")
    step = gd.assign_add(w, gd.exp(x, name="expx"))
    y = gd.sqrt(x, name="root")
    sess = gd.Session(backend=backend, check_numerics=True)
    with pytest.raises(gd.NumericsError, match="'root'.*op sqrt"):
        sess.run([y, step.node], {x: np.array([1.0, -1.0])})
    np.testing.assert_array_equal(sess.run(w), np.ones(2))
    sess.run(step.node, {x: np.zeros(2)})  # and the next run commits as usual
    np.testing.assert_array_equal(sess.run(w), [2.0, 2.0])


def test_a_nan_in_a_feed_is_named_as_the_feed(backend):
    x = gd.placeholder((2,), "float64", name="data")
    sess = gd.Session(backend=backend, check_numerics=True)
    with pytest.raises(gd.NumericsError, match="fed for 'data'"):
        sess.run(x * 2.0, {x: np.array([np.nan, 1.0])})


def test_an_inf_from_overflow_is_named(backend):
    x = gd.placeholder((2,), "float32", name="x")
    y = gd.exp(x, name="grow")
    sess = gd.Session(backend=backend, check_numerics=True)
    with pytest.raises(gd.NumericsError, match="'grow'.*op exp.*inf"):
        sess.run(y, {x: np.array([1.0, 1000.0], "float32")})


def test_without_check_numerics_nan_comes_back():
    x = gd.placeholder((1,), "float64", name="x")
    with np.errstate(invalid="ignore"):
        assert np.isnan(gd.Session().run(gd.sqrt(x), {x: [-1.0]})[0])
