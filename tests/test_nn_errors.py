"""Neural-network ops: bad input gets a graphdl error naming the op and its inputs;
dropout's random behaviour (the op table only covers its deterministic cases)."""

import numpy as np
import pytest

import graphdl as gd
from graphdl.shapes import fmt

from .errorcheck import ph, raises, run


# -- softmax / log_softmax -----------------------------------------------------------------
@pytest.mark.parametrize("fn", [gd.softmax, gd.log_softmax])
def test_softmax_bad_input(fn):
    op = fn.__name__
    x = ph((3, 4))
    with raises(gd.ShapeError, op, "axis 2 is out of range for rank 2", "'x' (3, 4) float32"):
        fn(x, axis=2)
    with raises(gd.ShapeError, op, "axis must be an int, got float 1.5", "'x' (3, 4)"):
        fn(x, axis=1.5)
    with raises(gd.ShapeError, op, "needs at least one axis", "'s' () float32"):
        fn(ph((), name="s"))
    with raises(gd.DTypeError, op, "floating-point", "'i' (3,) int64"):
        fn(ph((3,), "int64", name="i"))


# -- losses --------------------------------------------------------------------------------
LOGITS = "logits='logits' (3, 4) float32"


@pytest.fixture
def logits():
    return ph((3, 4), name="logits")


@pytest.mark.parametrize("shape", [(3, 5), (4,), (1, 4)])
def test_softmax_cross_entropy_shape_mismatch(logits, shape):
    labels = ph(shape, name="labels")
    with raises(gd.ShapeError, "softmax_cross_entropy", "must have the same shape", LOGITS,
                f"labels='labels' {fmt(shape)}"):
        gd.softmax_cross_entropy(logits, labels)


def test_softmax_cross_entropy_bad_labels_dtype_and_axis(logits):
    with raises(gd.DTypeError, "softmax_cross_entropy", "'labels' with dtype int64",
                "'labels' (3, 4) int64"):
        gd.softmax_cross_entropy(logits, ph((3, 4), "int64", name="labels"))
    with raises(gd.ShapeError, "softmax_cross_entropy", "axis 2 is out of range",
                "'logits' (3, 4)"):
        gd.softmax_cross_entropy(logits, ph((3, 4), name="labels"), axis=2)


def test_sparse_softmax_cross_entropy_float_labels(logits):
    with raises(gd.DTypeError, "sparse_softmax_cross_entropy", "integer class indices",
                LOGITS, "labels='labels' (3,) float32"):
        gd.sparse_softmax_cross_entropy(logits, ph((3,), name="labels"))


@pytest.mark.parametrize("shape", [(3, 1), (4,), ()])
def test_sparse_softmax_cross_entropy_wrong_label_shape(logits, shape):
    with raises(gd.ShapeError, "sparse_softmax_cross_entropy", "without its last (class) axis",
                LOGITS, f"labels='labels' {fmt(shape)} int64"):
        gd.sparse_softmax_cross_entropy(logits, ph(shape, "int64", name="labels"))


def test_sigmoid_cross_entropy_mismatch(logits):
    # labels that would broadcast are still refused: a per-example loss needs one label each
    for shape in [(4, 3), (1, 4)]:
        labels = ph(shape, name=f"labels{shape[0]}")
        with raises(gd.ShapeError, "sigmoid_cross_entropy", "must have the same shape", LOGITS,
                    f"'labels{shape[0]}' {fmt(shape)}"):
            gd.sigmoid_cross_entropy(logits, labels)
    with raises(gd.DTypeError, "sigmoid_cross_entropy", "floating-point", "int64"):
        gd.sigmoid_cross_entropy(logits, ph((3, 4), "int64", name="labels"))


def test_sparse_labels_checked_at_run_time():
    lg, lb = ph((None, 3), name="logits"), ph((None,), "int64", name="labels")
    loss = gd.sparse_softmax_cross_entropy(lg, lb)
    with raises(gd.GraphError, "sparse_softmax_cross_entropy", "label 3 is out of range for "
                "3 classes", "(node 'label_one_hot'", "'labels' (?,) given (2,)"):
        run(loss, {lg: np.zeros((2, 3)), lb: [0, 3]})
    with raises(gd.ShapeError, "sparse_softmax_cross_entropy", "labels of run-time shape (3,) "
                "do not match logits (2, 3)", "'logits' (?, 3) given (2, 3)"):
        run(loss, {lg: np.zeros((2, 3)), lb: [0, 1, 2]})


@pytest.mark.parametrize("loss", [gd.softmax_cross_entropy, gd.sigmoid_cross_entropy])
@pytest.mark.parametrize("n_labels", [3, 1])  # 1 would broadcast silently without the check
def test_dense_loss_shape_mismatch_at_run_time_is_a_shape_error(loss, n_labels):
    lg, lb = ph((None, 3), name="logits"), ph((None, 3), name="labels")
    with raises(gd.ShapeError, loss.__name__, f"labels of run-time shape ({n_labels}, 3) do "
                "not match logits of shape (2, 3)", "(node 'labels_like'"):
        run(loss(lg, lb), {lg: np.zeros((2, 3)), lb: np.zeros((n_labels, 3))})


# -- dropout -------------------------------------------------------------------------------
@pytest.mark.parametrize("rate", [1.0, -0.1, 1.5, float("nan"), "0.5"])
def test_dropout_rate_outside_0_1(rate):
    with raises(gd.GraphError, "dropout", "rate must be a Python number in [0, 1)",
                "'x' (3, 4) float32"):
        gd.dropout(ph((3, 4)), rate)


def test_dropout_rate_tensor_and_bad_training():
    x = ph((3, 4))
    with raises(gd.GraphError, "dropout", "rate must be a Python number", "'x' (3, 4)"):
        gd.dropout(x, ph((), name="rate"))
    with raises(gd.DTypeError, "dropout", "bool scalar tensor, got dtype float32",
                "training='t' () float32"):
        gd.dropout(x, 0.5, training=ph((), name="t"))
    with raises(gd.DTypeError, "dropout", "got str 'yes'", "'x' (3, 4)"):
        gd.dropout(x, 0.5, training="yes")  # used to count as True
    with raises(gd.DTypeError, "dropout", "floating-point", "'i' (3,) int64"):
        gd.dropout(ph((3,), "int64", name="i"), 0.5)


def test_dropout_mask_drops_rate_and_rescales():
    x = ph((200, 50))
    values = run(gd.dropout(x, 0.3), {x: np.ones((200, 50))})
    kept = values != 0
    assert np.allclose(values[kept], 1 / 0.7)
    assert abs(1 - kept.mean() - 0.3) < 0.03


def test_dropout_follows_the_seed_and_redraws_each_run():
    x = ph((20, 20))
    y = gd.dropout(x, 0.5)
    ones = {x: np.ones((20, 20))}
    sess = gd.Session(seed=3)
    first, second = sess.run(y, ones), sess.run(y, ones)
    assert not np.array_equal(first, second)
    assert np.array_equal(first, gd.Session(seed=3).run(y, ones))


def test_dropout_gradient_uses_the_mask_of_the_same_run():
    x = ph((6, 7), "float64")
    y = gd.dropout(x, 0.4)
    (g,) = gd.gradients(gd.sum(y), [x])
    xv = np.random.default_rng(0).uniform(1, 2, (6, 7))
    out, grad = gd.Session(seed=1).run([y, g], {x: xv})
    assert np.allclose(grad, out / xv)


def test_dropout_training_placeholder_chooses_at_run_time():
    x, t = ph((30, 30)), ph((), "bool", name="t")
    y = gd.dropout(x, 0.5, training=t)
    ones = np.ones((30, 30))
    assert np.array_equal(run(y, {x: ones, t: False}), ones)
    assert (run(y, {x: ones, t: True}) == 0).any()
    assert gd.dropout(x, 0.5, training=False) is x and gd.dropout(x, 0.0) is x
