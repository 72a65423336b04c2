"""Bad input gets a clear error: build-time shapes/dtypes, run-time feeds and fetches."""

import numpy as np
import pytest

import graphdl as gd


def test_matmul_shape_error_names_op_inputs_and_shapes():
    a = gd.placeholder((None, 3), name="a")
    b = gd.placeholder((4, 2), name="b")
    with pytest.raises(gd.ShapeError) as info:
        a @ b
    msg = str(info.value)
    assert "matmul" in msg and "'a'" in msg and "'b'" in msg
    assert "(?, 3)" in msg and "(4, 2)" in msg and "3 vs 4" in msg


def test_broadcast_error_names_op_and_shapes():
    a = gd.placeholder((2, 3), name="left")
    b = gd.placeholder((4,), name="right")
    with pytest.raises(gd.ShapeError, match=r"add: .*'left' \(2, 3\).*'right' \(4,\)"):
        a + b


def test_float_op_on_int_tensor_is_dtype_error():
    labels = gd.placeholder((3,), "int64", name="labels")
    with pytest.raises(gd.DTypeError, match="exp.*labels.*int64"):
        gd.exp(labels)


def test_errors_are_one_family():
    for cls in (gd.ShapeError, gd.DTypeError, gd.FeedError, gd.NotInGraphError,
                gd.NotDifferentiableError, gd.GradientCheckError):
        assert issubclass(cls, gd.GraphError)


def test_missing_feed_names_the_placeholder():
    x = gd.placeholder((None, 2), name="images")
    y = gd.sigmoid(x)
    with pytest.raises(gd.FeedError, match=r"missing feed.*'images' \(\?, 2\) float32"):
        gd.Session().run(y)


def test_wrong_feed_shape_names_placeholder_expected_and_given():
    x = gd.placeholder((None, 2), name="x")
    with pytest.raises(gd.FeedError) as info:
        gd.Session().run(x * 2.0, {x: np.zeros((3, 5))})
    msg = str(info.value)
    assert "'x'" in msg and "expected shape (?, 2)" in msg and "given (3, 5)" in msg


def test_wrong_feed_dtype_names_placeholder_expected_and_given():
    labels = gd.placeholder((3,), "int64", name="labels")
    with pytest.raises(gd.FeedError, match="'labels'.*expected dtype int64.*given float64"):
        gd.Session().run(labels + 1, {labels: np.array([0.5, 1.0, 2.0])})


def test_compatible_feeds_are_cast():
    x = gd.placeholder((2,), name="x")
    out = gd.Session().run(x, {x: [1, 2]})  # Python ints feed a float32 placeholder
    assert out.dtype == np.float32 and out.tolist() == [1.0, 2.0]


def test_fetch_from_another_graph_says_so():
    x = gd.placeholder((2,), name="x")
    with gd.Graph().as_default():
        other = gd.constant([1.0, 2.0])
    with pytest.raises(gd.NotInGraphError, match="another graph"):
        gd.Session().run(other)
    with pytest.raises(gd.NotInGraphError):
        gd.Session().run(x, {other: [1.0, 2.0]})


def test_mixing_graphs_at_build_time_fails():
    x = gd.placeholder((2,), name="x")
    with gd.Graph().as_default():
        other = gd.constant([1.0, 2.0])
    with pytest.raises(gd.GraphError, match="another graph"):
        x + other


def test_bad_fetch_type():
    with pytest.raises(gd.GraphError, match="cannot fetch"):
        gd.Session().run(3.5)


def test_unknown_backend():
    with pytest.raises(gd.GraphError, match="unknown backend 'tpu'.*numpy"):
        gd.Session(backend="tpu")


def test_tensor_truth_value_is_an_error():
    x = gd.placeholder((2,), name="x")
    with pytest.raises(gd.GraphError, match="truth value"):
        if x > 0:
            pass


def test_not_differentiable_names_the_op():
    x = gd.placeholder((None, 3), name="x")
    y = gd.cast(gd.argmax(x, axis=1), "float32") * 2.0
    with pytest.raises(gd.NotDifferentiableError, match=r"argmax"):
        gd.gradients(y, x)


def test_assign_shape_mismatch():
    v = gd.Variable(np.zeros((2, 3), "float32"), name="v")
    with pytest.raises(gd.ShapeError, match="assign.*does not fit variable"):
        gd.assign(v, np.zeros((3, 2), "float32"))
