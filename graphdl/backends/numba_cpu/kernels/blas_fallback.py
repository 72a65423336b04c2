"""The gemm kernel's BLAS where NumPy ships no OpenBLAS of its own: two adapters with
the kernel's ILP64 CBLAS signature (numba_cpu/blas_library.py) that call SciPy's BLAS
through Numba's ``numba_xxgemm`` helper — what ``np.dot`` calls inside njit.

Compiled as Numba ``cfunc``s (cached on disk) only when needed: a process that binds
NumPy's OpenBLAS never compiles them. Only row-major calls come in (the kernel makes
no other); BLAS is column-major, so a row-major ``c = op(a) @ op(b)`` is the
column-major ``c.T = op(b).T @ op(a).T``: the operands and their flags swap places.
"""

import numpy as np
from numba import cfunc, types

from .alloc import empty

CBLAS_TRANS = 112  # CblasTrans; CblasNoTrans is 111, CblasRowMajor 101


def cblas_signature(scalar):
    """The kernel's gemm signature with ``alpha``/``beta`` of type ``scalar``."""
    return types.void(types.intc, types.intc, types.intc,         # order, trans_a, trans_b
                      types.int64, types.int64, types.int64,      # m, n, k
                      scalar, types.voidptr, types.int64,         # alpha, a, lda
                      types.voidptr, types.int64,                 # b, ldb
                      scalar, types.voidptr, types.int64)         # beta, c, ldc


_XXGEMM = types.ExternalFunction("numba_xxgemm", types.intc(
    types.char, types.char, types.char, types.intp, types.intp, types.intp,
    types.voidptr, types.voidptr, types.intp, types.voidptr, types.intp,
    types.voidptr, types.voidptr, types.intp))
_N, _T, _S, _D = ord("n"), ord("t"), ord("s"), ord("d")

# two plain functions, not one closure per dtype: Numba caches a cfunc by its name
def _sgemm_scipy(order, trans_a, trans_b, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc):
    scalars = empty(2, np.float32)  # numba_xxgemm takes alpha and beta by pointer
    scalars[0] = alpha
    scalars[1] = beta
    _XXGEMM(_S, _T if trans_b == CBLAS_TRANS else _N,
            _T if trans_a == CBLAS_TRANS else _N, n, m, k, scalars.ctypes, b, ldb, a, lda,
            scalars[1:].ctypes, c, ldc)


def _dgemm_scipy(order, trans_a, trans_b, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc):
    scalars = empty(2, np.float64)
    scalars[0] = alpha
    scalars[1] = beta
    _XXGEMM(_D, _T if trans_b == CBLAS_TRANS else _N,
            _T if trans_a == CBLAS_TRANS else _N, n, m, k, scalars.ctypes, b, ldb, a, lda,
            scalars[1:].ctypes, c, ldc)


_ADAPTERS = {}


def adapters():
    """``{"float32": cfunc, "float64": cfunc}`` (compiled, or loaded from the cache, on
    the first call)."""
    if not _ADAPTERS:
        _ADAPTERS["float32"] = cfunc(cblas_signature(types.float32), cache=True,
                                     nopython=True)(_sgemm_scipy)
        _ADAPTERS["float64"] = cfunc(cblas_signature(types.float64), cache=True,
                                     nopython=True)(_dgemm_scipy)
    return _ADAPTERS


__all__ = ["CBLAS_TRANS", "adapters", "cblas_signature"]
