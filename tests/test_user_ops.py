"""The ops a user reaches for (issue #8): behaviours beyond the op table's
forward/gradient checks — integer gradients, run-time sizes, errors."""

import numpy as np
import pytest

import graphdl as gd


def test_gradient_wrt_integer_labels_is_none():
    logits = gd.placeholder((None, 4), name="logits")
    labels = gd.placeholder((None,), "int64", name="labels")
    loss = gd.mean(gd.sparse_softmax_cross_entropy(logits, labels))
    g_logits, g_labels = gd.gradients(loss, [logits, labels])
    assert g_labels is None and g_logits is not None
    assert gd.gradients(loss, labels, unconnected="zero") is not None  # zeros on request


def test_zero_state_for_an_unknown_batch():
    x = gd.placeholder((None, 5, 2), name="x")
    h0 = gd.zeros((gd.shape(x)[0], 3))
    assert h0.shape == (None, 3)
    out = gd.Session().run(h0, {x: np.ones((4, 5, 2))})
    np.testing.assert_array_equal(out, np.zeros((4, 3)))
    static = gd.zeros((gd.shape(gd.placeholder((2, 7)))[1], 3))
    assert static.shape == (7, 3)  # a statically known dim stays known


def test_gather_out_of_range_and_bad_indices():
    params = gd.placeholder((4, 2), name="params")
    idx = gd.placeholder((None,), "int64", name="idx")
    y = gd.gather(params, idx)
    with pytest.raises(gd.GraphError, match="index 4 is out of range for axis 0 with size 4"):
        gd.Session().run(y, {params: np.zeros((4, 2)), idx: [0, 4]})
    with pytest.raises(gd.DTypeError, match="gather: indices must be integers"):
        gd.gather(params, gd.placeholder((2,)))


def test_fill_and_layout_errors():
    with pytest.raises(gd.GraphError, match="sizes must be non-negative ints"):
        gd.zeros((2, -1))
    with pytest.raises(gd.DTypeError, match="int scalar"):
        gd.zeros((gd.placeholder(()), 2))
    x = gd.placeholder((1, 3, 4, 4), name="img")
    with pytest.raises(gd.ShapeError, match="data_format must be 'NCHW' or 'NHWC'"):
        gd.max_pool2d(x, data_format="nhwc")
    with pytest.raises(gd.ShapeError, match="at least one dimension"):
        gd.matmul(gd.constant(2.0), x)


def test_integer_division_and_names():
    i = gd.constant(np.array([3, 4], "int32"))
    q = i / 2
    assert q.dtype == np.float64
    np.testing.assert_allclose(gd.Session().run(q), [1.5, 2.0])
    assert gd.trainable_variables() == []
    v = gd.Variable(np.zeros(2), name="v")
    gd.Variable(np.zeros(2), name="frozen", trainable=False)
    assert gd.trainable_variables() == [v]
