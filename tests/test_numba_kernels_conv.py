"""The Numba CPU conv/pool library kernels agree with the ops' reference ``forward``.

Each kernel compiles once per dtype in a run (every case of a dtype goes through
one test), into one Numba cache directory for the run (``NUMBA_CACHE_DIR``, a temp
dir unless already set).
"""

import atexit
import itertools
import os
import shutil
import tempfile

import numpy as np
import pytest

pytest.importorskip("scipy")  # np.dot inside njit needs SciPy's BLAS
numba = pytest.importorskip("numba")

if "NUMBA_CACHE_DIR" not in os.environ:  # one cache dir per test run, removed at exit
    _cache = tempfile.mkdtemp(prefix="graphdl-numba-test-")
    atexit.register(shutil.rmtree, _cache, True)
    os.environ["NUMBA_CACHE_DIR"] = numba.config.CACHE_DIR = _cache

from graphdl.backends.numba_cpu.kernels import conv as K  # noqa: E402
from graphdl.backends.numba_cpu.kernels import library  # noqa: E402
from graphdl.ops import conv as ops  # noqa: E402

# (N, C, H, W, O, (kh, kw), (sh, sw), padding) in the ops' normalized attribute form
CONV_CASES = [
    (2, 3, 7, 9, 4, (3, 2), (1, 1), "valid"),
    (1, 2, 8, 5, 3, (3, 3), (2, 1), "same"),
    (3, 2, 6, 6, 2, (2, 3), (2, 3), ((1, 0), (2, 1))),
    (1, 1, 5, 5, 1, (5, 5), (1, 1), "valid"),          # window = image
    (2, 4, 9, 7, 3, (1, 1), (2, 2), "valid"),          # 1x1, strided
    (1, 3, 11, 10, 5, (4, 3), (3, 2), "same"),         # even kernel: odd pad after
    (2, 2, 5, 6, 2, (3, 3), (1, 1), ((2, 2), (1, 3))),  # pads >= what same would use
    (1, 1, 4, 4, 2, (2, 2), (5, 5), "same"),           # stride > window
    (4, 1, 28, 28, 8, (3, 3), (1, 1), "valid"),        # MNIST-like first layer
    # kw * C >= SMALL_RUN: the channels-last path of conv2d and its filter gradient
    (2, 8, 7, 6, 3, (3, 2), (2, 1), "same"),
    (1, 16, 5, 6, 4, (3, 3), (1, 2), ((1, 0), (0, 2))),
    (2, 6, 9, 8, 5, (2, 3), (1, 1), "valid"),
    # several images per GEMM (BLOCK_ROWS output pixels), the last block partial;
    # one image per block (1024 output pixels)
    (5, 8, 20, 20, 4, (3, 3), (1, 1), "valid"),
    (2, 6, 34, 34, 3, (3, 3), (1, 1), "valid"),
    # no images: the filter gradient is zero (its gemm accumulation starts at n = 0)
    (0, 3, 7, 9, 4, (3, 2), (1, 1), "valid"),
    (0, 8, 7, 6, 3, (3, 2), (2, 1), "same"),
]

# (N, C, H, W, (kh, kw), (sh, sw), padding)
POOL_CASES = [
    (2, 3, 8, 8, (2, 2), (2, 2), "valid"),
    (1, 2, 7, 9, (3, 2), (2, 1), "same"),              # overlapping windows
    (3, 1, 5, 6, (3, 3), (1, 1), ((1, 2), (2, 0))),
    (1, 2, 6, 5, (2, 3), (3, 2), "same"),
    (2, 1, 4, 4, (4, 4), (1, 1), "same"),
    (1, 1, 3, 7, (1, 2), (1, 3), "valid"),
    # 2x2 / stride 2 (the unrolled path) beside windows that do not take it: an
    # uncovered last row and column, "same" padding after, padding before
    (2, 2, 7, 9, (2, 2), (2, 2), "valid"),
    (1, 3, 7, 9, (2, 2), (2, 2), "same"),
    (2, 1, 6, 7, (2, 2), (2, 2), ((1, 1), (1, 0))),
    (1, 2, 20, 22, (2, 2), (2, 2), "valid"),           # rows long enough to vectorize
]

DTYPES = ["float32", "float64"]


@pytest.fixture(autouse=True, scope="module")
def _gemm_loaded():
    """The convolutions call gemm by address (kernels/library.py): load it first."""
    for dtype in DTYPES:
        library.ensure("gemm", dtype)


def _tol(dtype):
    return {"rtol": 2e-5, "atol": 2e-5} if dtype == "float32" else {"rtol": 1e-12, "atol": 1e-12}


def _geometry(h, w, size, stride, padding):
    same, t, b, le, r = K.padding_args(padding)
    pt, oh = K.axis_geometry(h, size[0], stride[0], same, t, b)
    pl, ow = K.axis_geometry(w, size[1], stride[1], same, le, r)
    return pt, pl, oh, ow


def test_axis_geometry_matches_the_ops_rule():
    paddings = ["valid", "same", ((0, 0), (1, 2)), ((2, 1), (0, 3))]
    for n, k, s, padding in itertools.product(range(1, 9), range(1, 5), range(1, 4), paddings):
        pads, out = ops._geometry((n, n), (k, k), (s, s), padding)
        same, t, b, le, r = K.padding_args(padding)
        assert K.axis_geometry(n, k, s, same, t, b) == (pads[0][0], out[0])
        assert K.axis_geometry(n, k, s, same, le, r) == (pads[1][0], out[1])


@pytest.mark.parametrize("dtype", DTYPES)
def test_conv_kernels_match_reference(dtype):
    rng = np.random.default_rng(0)
    for n, c, h, w_, o, size, stride, padding in CONV_CASES:
        x = rng.standard_normal((n, c, h, w_)).astype(dtype)
        w = rng.standard_normal((o, c, *size)).astype(dtype)
        pt, pl, oh, ow = _geometry(h, w_, size, stride, padding)
        case = (x.shape, w.shape, stride, padding)

        want = ops.CONV2D.forward(x, w, stride, padding)
        got = np.full((n, o, oh, ow), np.nan, dtype)
        K.conv2d(x, w, got, *stride, pt, pl)
        np.testing.assert_allclose(got, want, **_tol(dtype), err_msg=f"conv2d {case}")

        g = rng.standard_normal(want.shape).astype(dtype)
        want = ops.CONV2D_BACKPROP_INPUT.forward(g, w, x, stride, padding)
        got = np.full(x.shape, np.nan, dtype)
        K.conv2d_backprop_input(g, w, got, *stride, pt, pl)
        np.testing.assert_allclose(got, want, **_tol(dtype), err_msg=f"backprop_input {case}")

        want = ops.CONV2D_BACKPROP_FILTER.forward(x, g, w, stride, padding)
        got = np.full(w.shape, np.nan, dtype)
        K.conv2d_backprop_filter(x, g, got, *stride, pt, pl)
        tol = _tol(dtype)  # a sum over every output pixel of every image: its rounding grows
        tol["atol"] *= max(1.0, np.sqrt(n * oh * ow) / 16)
        np.testing.assert_allclose(got, want, **tol, err_msg=f"backprop_filter {case}")


def _pool_inputs(rng, shape, dtype):
    """Random values, a tie-heavy integer image, and one with -inf / nan in it."""
    plain = rng.standard_normal(shape).astype(dtype)
    ties = rng.integers(0, 3, shape).astype(dtype)
    odd = rng.standard_normal(shape).astype(dtype)
    odd[0, 0, 0, :] = -np.inf      # a border of -inf: padding may win there
    odd.reshape(-1)[-1] = np.nan   # nan wins its windows, like np.argmax
    odd.reshape(-1)[rng.random(odd.size) < 0.15] = np.nan  # first of several nan wins
    return [("plain", plain), ("ties", ties), ("inf-nan", odd)]


@pytest.mark.parametrize("dtype", DTYPES)
def test_pool_kernels_match_reference(dtype):
    rng = np.random.default_rng(1)
    for n, c, h, w, size, stride, padding in POOL_CASES:
        pt, pl, oh, ow = _geometry(h, w, size, stride, padding)
        geo = (*size, *stride, pt, pl)
        for kind, x in _pool_inputs(rng, (n, c, h, w), dtype):
            case = (kind, x.shape, size, stride, padding)
            g = rng.standard_normal((n, c, oh, ow)).astype(dtype)
            v = rng.standard_normal(x.shape).astype(dtype)

            want = ops.MAX_POOL2D.forward(x, size, stride, padding)
            got = np.full(want.shape, 7.0, dtype)
            K.max_pool2d(x, got, *geo)
            np.testing.assert_array_equal(got, want, err_msg=f"max_pool2d {case}")

            want = ops.MAX_POOL2D_BACKPROP.forward(x, g, size, stride, padding)
            got = np.full(x.shape, np.nan, dtype)
            K.max_pool2d_backprop(x, g, got, *geo)
            np.testing.assert_allclose(got, want, **_tol(dtype), err_msg=f"max bwd {case}")

            want = ops.MAX_POOL2D_GATHER.forward(x, v, size, stride, padding)
            got = np.full(want.shape, np.nan, dtype)
            K.max_pool2d_gather(x, v, got, *geo)
            np.testing.assert_array_equal(got, want, err_msg=f"max gather {case}")

            if kind == "inf-nan":
                continue  # averages of inf/nan are inf/nan on both sides; nothing to route
            want = ops.AVG_POOL2D.forward(x, size, stride, padding)
            got = np.full(want.shape, np.nan, dtype)
            K.avg_pool2d(x, got, *geo)
            np.testing.assert_allclose(got, want, **_tol(dtype), err_msg=f"avg_pool2d {case}")

            want = ops.AVG_POOL2D_BACKPROP.forward(g, x, size, stride, padding)
            got = np.full(x.shape, np.nan, dtype)
            K.avg_pool2d_backprop(g, got, *geo)
            np.testing.assert_allclose(got, want, **_tol(dtype), err_msg=f"avg bwd {case}")


def test_inconsistent_shapes_raise_instead_of_writing_out_of_bounds():
    x = np.ones((2, 3, 5, 5))
    with pytest.raises(ValueError, match="conv2d kernel"):
        K.conv2d(x, np.ones((4, 2, 3, 3)), np.empty((2, 4, 3, 3)), 1, 1, 0, 0)
    with pytest.raises(ValueError, match="max_pool2d kernel"):
        K.max_pool2d(x, np.empty((1, 3, 2, 2)), 2, 2, 2, 2, 0, 0)
