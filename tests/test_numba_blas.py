"""Which BLAS the gemm kernel calls (numba_cpu/blas_library.py): NumPy's own OpenBLAS
where it is found, else adapters over SciPy's; and the thread count of a run."""

import ctypes
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import graphdl as gd

pytest.importorskip("numba")
pytest.importorskip("scipy")

ROOT = Path(__file__).resolve().parent.parent


def _cases(rng, dtype):
    for ta in (False, True):
        for tb in (False, True):
            a = rng.standard_normal((7, 5) if ta else (5, 7)).astype(dtype)
            b = rng.standard_normal((3, 7) if tb else (7, 3)).astype(dtype)
            c = rng.standard_normal((5, 3)).astype(dtype)
            expected = -0.5 * ((a.T if ta else a) @ (b.T if tb else b)) + 2.0 * c
            yield a, b, c, ta, tb, expected


def test_gemm_kernel_matches_numpy():
    from graphdl.backends.numba_cpu.kernels.blas import gemm
    rng = np.random.default_rng(0)
    for dtype in ("float32", "float64"):
        for a, b, c, ta, tb, expected in _cases(rng, dtype):
            gemm(a, b, c, ta, tb, -0.5, 2.0)
            np.testing.assert_allclose(c, expected, rtol=1e-5, atol=1e-5)
    # beta == 0 ignores what c held (NaN included); a non-contiguous operand is copied
    a = rng.standard_normal((5, 14)).astype("float32")[:, ::2]
    b = rng.standard_normal((7, 3)).astype("float32")
    c = np.full((5, 3), np.nan, "float32")
    gemm(a, b, c, False, False, 1.0, 0.0)
    np.testing.assert_allclose(c, a @ b, rtol=1e-5, atol=1e-5)
    # an empty inner dimension: c = beta * c
    c = np.ones((2, 3), "float32")
    gemm(np.zeros((2, 0), "float32"), np.zeros((0, 3), "float32"), c, False, False, 1.0, 3.0)
    np.testing.assert_array_equal(c, np.full((2, 3), 3.0, "float32"))
    with pytest.raises(ValueError, match="C-contiguous"):
        gemm(a.copy(), b, np.zeros((3, 5), "float32").T, False, False, 1.0, 0.0)


def test_the_kernel_symbols_are_bound_to_the_library_named():
    from llvmlite import binding  # noqa: PLC0415

    from graphdl.backends.numba_cpu import blas_library  # noqa: PLC0415
    from graphdl.backends.numba_cpu.kernels import blas  # noqa: F401, PLC0415 (binds)

    found = blas_library.find_numpy_openblas()
    bound = binding.address_of_symbol(blas_library.SYMBOLS["float32"])
    if found is None:  # a NumPy without its own OpenBLAS: the SciPy adapters
        from graphdl.backends.numba_cpu.kernels.blas_fallback import adapters  # noqa: PLC0415
        assert blas_library.library() == "scipy"
        assert bound == adapters()["float32"].address
    else:
        assert blas_library.library() == "numpy"
        assert bound == ctypes.cast(found["sgemm"], ctypes.c_void_p).value
        assert binding.address_of_symbol(blas_library.SYMBOLS["float64"]) == \
            ctypes.cast(found["dgemm"], ctypes.c_void_p).value


def test_the_scipy_adapters_compute_a_row_major_gemm():
    """Called straight through their C addresses, as the kernel would call them."""
    from graphdl.backends.numba_cpu.kernels.blas_fallback import adapters  # noqa: PLC0415
    from graphdl.backends.numba_cpu.scipy_blas import load_cython_blas  # noqa: PLC0415

    load_cython_blas()
    rng = np.random.default_rng(0)
    for dtype, scalar in (("float32", ctypes.c_float), ("float64", ctypes.c_double)):
        i64, cint, ptr = ctypes.c_int64, ctypes.c_int, ctypes.c_void_p
        fn = ctypes.CFUNCTYPE(None, cint, cint, cint, i64, i64, i64, scalar, ptr, i64,
                              ptr, i64, scalar, ptr, i64)(adapters()[dtype].address)
        for a, b, c, ta, tb, expected in _cases(rng, dtype):
            m, n = c.shape
            fn(101, 112 if ta else 111, 112 if tb else 111, m, n, a.shape[0] if ta else
               a.shape[1], -0.5, a.ctypes.data, a.shape[1], b.ctypes.data, b.shape[1],
               2.0, c.ctypes.data, n)
            np.testing.assert_allclose(c, expected, rtol=1e-5, atol=1e-5)


FALLBACK_SCRIPT = """
import numpy as np, graphdl as gd
from graphdl.backends.numba_cpu import blas_library
from graphdl.backends.numba_cpu.kernels.blas import gemm
rng = np.random.default_rng(0)
a, b = rng.standard_normal((6, 4)), rng.standard_normal((6, 3))
c = np.ones((4, 3))
gemm(a, b, c, True, False, 2.0, 1.0)
print(blas_library.library(), float(np.abs(c - (2 * a.T @ b + 1)).max()))
x = gd.placeholder((None, 4), "float32", name="x")
w = gd.Variable(np.linspace(-1, 1, 12, dtype="float32").reshape(4, 3), name="w")
loss = gd.mean(gd.relu(x @ w) ** 2)
step = gd.assign_sub(w, 0.1 * gd.gradients(loss, [w])[0])
feed = {x: np.linspace(-2, 2, 20, dtype="float32").reshape(5, 4)}
got = []
for backend in ("numba", "numpy"):
    sess = gd.Session(backend=backend)
    got.append([sess.run([loss, step], feed)[0] for _ in range(3)] + [sess.run(w)])
for u, v in zip(*got):
    np.testing.assert_allclose(u, v, rtol=1e-5, atol=1e-6)
print("same")
"""


def test_without_numpys_openblas_the_kernel_calls_scipys(tmp_path):
    """``GRAPHDL_NUMPY_BLAS=0`` stands for a NumPy with no OpenBLAS of its own: the
    same (cached) kernels then run on the SciPy adapters."""
    env = dict(os.environ, PYTHONPATH=str(ROOT), GRAPHDL_NUMPY_BLAS="0",
               GRAPHDL_CACHE_DIR=str(tmp_path))
    done = subprocess.run([sys.executable, "-c", FALLBACK_SCRIPT], env=env,
                          capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-3000:]
    library, error, same = done.stdout.split()
    assert library == "scipy" and float(error) < 1e-12 and same == "same"


def test_a_run_limits_numpys_blas_threads_and_restores_them():
    from graphdl.backends.numba_cpu import blas_library  # noqa: PLC0415

    x = gd.placeholder((None, 3), "float32", name="x")
    w = gd.Variable(np.ones((3, 2), "float32"), name="w")
    y = x @ w
    sess = gd.Session(backend="numba")
    feed = {x: np.ones((4, 3), "float32")}
    sess.run(y, feed)  # compiles and binds the library
    if blas_library.library() != "numpy":
        pytest.skip("the kernel calls SciPy's BLAS here (set to its count once)")
    prog = next(iter(sess._programs.values()))[1]
    seen = []
    native = prog._fn

    def spy(*args):
        seen.append(blas_library.numpy_threads())
        return native(*args)

    before = blas_library.numpy_threads()
    other = blas_library.wanted_threads() + 1
    blas_library._STATE["set"](other)  # noqa: SLF001 (as a user's threadpoolctl would)
    try:
        prog._fn = spy
        np.testing.assert_array_equal(sess.run(y, feed), np.full((4, 2), 3.0))
        assert seen == [blas_library.wanted_threads()]
        assert blas_library.numpy_threads() == other  # the user's count, restored
        # a run that finds the count already right changes nothing
        blas_library._STATE["set"](blas_library.wanted_threads())  # noqa: SLF001
        assert blas_library.limit_threads() is None
    finally:
        blas_library._STATE["set"](before)  # noqa: SLF001
