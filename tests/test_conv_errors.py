"""Convolution and pooling reject bad input with a graphdl error naming the op and
its inputs with their shapes, at build time and (for unknown dims) at run time."""

import numpy as np
import pytest

import graphdl as gd

from .errorcheck import ph, raises, run

X = "'x' (2, 3, 8, 8) float32"
W = "'w' (4, 3, 3, 3) float32"


@pytest.fixture
def x():
    return ph((2, 3, 8, 8))


@pytest.fixture
def w():
    return ph((4, 3, 3, 3), name="w")


# -- conv2d --------------------------------------------------------------------------------
def test_conv2d_channel_mismatch(x):
    with raises(gd.ShapeError, "conv2d", "x has 3 input channels but w expects 2", f"x={X}",
                "w='w' (4, 2, 3, 3)"):
        gd.conv2d(x, ph((4, 2, 3, 3), name="w"))


def test_conv2d_wrong_ranks(x, w):
    with raises(gd.ShapeError, "conv2d", "x must be NCHW of rank 4, got rank 3",
                "x='x3' (3, 8, 8)", f"w={W}"):
        gd.conv2d(ph((3, 8, 8), name="x3"), w)
    with raises(gd.ShapeError, "conv2d", "w must be OIHW of rank 4, got rank 3", f"x={X}",
                "w='w3' (3, 3, 3)"):
        gd.conv2d(x, ph((3, 3, 3), name="w3"))


def test_conv2d_kernel_larger_than_input_with_valid_padding():
    x = ph((2, 3, 4, 4))
    big = ph((4, 3, 5, 3), name="w")
    with raises(gd.ShapeError, "conv2d", "the 5x3 window is larger than the padded 4x4 input",
                "x='x' (2, 3, 4, 4)", "w='w' (4, 3, 5, 3)"):
        gd.conv2d(x, big)
    assert gd.conv2d(x, big, padding="same").shape == (2, 4, 4, 4)  # "same" always fits


@pytest.mark.parametrize("padding, text", [
    ("full", "padding must be 'valid', 'same', an int or a pair, got 'full'"),
    (-1, "padding must be at least 0, got (-1, -1)"),
    (((1, -1), (0, 0)), "padding must be at least 0, got (1, -1)"),
    ((1, 2, 3), "padding must be an int or a pair of ints, got (1, 2, 3)"),
    (None, "padding must be an int or a pair of ints, got None"),
])
def test_conv2d_bad_padding(x, w, padding, text):
    with raises(gd.ShapeError, "conv2d", text, X, W):
        gd.conv2d(x, w, padding=padding)


@pytest.mark.parametrize("stride, text", [
    (0, "stride must be at least 1, got (0, 0)"),
    ((1, -2), "stride must be at least 1, got (1, -2)"),
    (1.5, "stride must be an int or a pair of ints, got 1.5"),
    (True, "stride must be an int or a pair of ints, got True"),
])
def test_conv2d_bad_stride(x, w, stride, text):
    with raises(gd.ShapeError, "conv2d", text, X, W):
        gd.conv2d(x, w, stride=stride)


def test_conv2d_integer_input(w):
    with raises(gd.DTypeError, "conv2d", "floating-point", "'xi' (2, 3, 8, 8) int64"):
        gd.conv2d(ph((2, 3, 8, 8), "int64", name="xi"), w)


def test_backprop_ops_check_their_shapes(x, w):
    # they used to accept anything and fail inside NumPy at run time
    g_bad = ph((2, 4, 5, 5), name="g")
    with raises(gd.ShapeError, "conv2d_backprop_input", "g must have the conv2d output shape "
                "(2, 4, 6, 6)", "g='g' (2, 4, 5, 5)", f"w={W}", f"x={X}"):
        gd.conv2d_backprop_input(g_bad, w, x)
    with raises(gd.ShapeError, "conv2d_backprop_filter", "output shape (2, 4, 6, 6)",
                f"x={X}", "g='g' (2, 4, 5, 5)", f"w={W}"):
        gd.conv2d_backprop_filter(x, g_bad, w)
    with raises(gd.ShapeError, "conv2d_backprop_filter", "g must be NOHW of rank 4",
                "g='g3' (2, 4, 6)"):
        gd.conv2d_backprop_filter(x, ph((2, 4, 6), name="g3"), w)
    with raises(gd.ShapeError, "conv2d_backprop_input", "x must be NCHW of rank 4",
                "x='x3' (2, 3, 8)"):
        gd.conv2d_backprop_input(ph((2, 4, 6, 6), name="g"), w, ph((2, 3, 8), name="x3"))


# -- pooling -------------------------------------------------------------------------------
POOLS = [gd.max_pool2d, gd.avg_pool2d]
X44 = "'x' (2, 3, 4, 4) float32"


@pytest.mark.parametrize("pool", POOLS)
def test_pool_window_larger_than_input(pool):
    x = ph((2, 3, 4, 4))
    with raises(gd.ShapeError, pool.__name__, "the 2x5 window is larger than the padded 4x4 "
                "input", X44):
        pool(x, (2, 5))


@pytest.mark.parametrize("pool", POOLS)
@pytest.mark.parametrize("kwargs, text", [
    ({"size": 0}, "size must be at least 1, got (0, 0)"),
    ({"size": (2, 2, 2)}, "size must be an int or a pair of ints, got (2, 2, 2)"),
    ({"size": 2.0}, "size must be an int or a pair of ints, got 2.0"),
    ({"stride": 0}, "stride must be at least 1, got (0, 0)"),
    ({"padding": "full"}, "padding must be 'valid', 'same'"),
    ({"padding": 2}, "explicit padding ((2, 2), (2, 2)) must be smaller than the window"),
])
def test_pool_bad_attributes(pool, kwargs, text):
    with raises(gd.ShapeError, pool.__name__, text, X44):
        pool(ph((2, 3, 4, 4)), **kwargs)


@pytest.mark.parametrize("pool", POOLS)
def test_pool_wrong_rank_and_dtype(pool):
    with raises(gd.ShapeError, pool.__name__, "NCHW input of rank 4, got rank 3",
                "'x' (3, 4, 4)"):
        pool(ph((3, 4, 4)))
    with raises(gd.DTypeError, pool.__name__, "floating-point", "'i' (1, 1, 4, 4) int64"):
        pool(ph((1, 1, 4, 4), "int64", name="i"))


# -- run time: dims unknown at build time ----------------------------------------------
def test_conv2d_channel_mismatch_at_run_time():
    x = ph((None, None, 8, 8))
    w = ph((4, 3, 3, 3), name="w")
    with raises(gd.ShapeError, "conv2d", "x has 2 input channels at run time but w expects 3",
                "(node 'conv2d'", "'x' (?, ?, 8, 8) given (2, 2, 8, 8)"):
        run(gd.conv2d(x, w), {x: np.zeros((2, 2, 8, 8)), w: np.zeros((4, 3, 3, 3))})


def test_conv2d_window_larger_than_input_at_run_time():
    x = ph((None, 3, None, None))
    w = ph((4, 3, 3, 3), name="w")
    with raises(gd.ShapeError, "conv2d", "3x3 window is larger than the padded 2x2 input at "
                "run time", "'x' (?, 3, ?, ?) given (2, 3, 2, 2)"):
        run(gd.conv2d(x, w), {x: np.zeros((2, 3, 2, 2)), w: np.zeros((4, 3, 3, 3))})


@pytest.mark.parametrize("pool", POOLS)
def test_pool_window_larger_than_input_at_run_time(pool):
    x = ph((None, 3, None, None))
    with raises(gd.ShapeError, pool.__name__, "3x3 window is larger than the padded 2x2 input "
                "at run time", f"(node '{pool.__name__}'", "given (2, 3, 2, 2)"):
        run(pool(x, 3), {x: np.zeros((2, 3, 2, 2))})
