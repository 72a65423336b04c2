"""Library kernel: BLAS ``gemm`` with ``alpha``, ``beta`` and transpose flags.

``gemm(a, b, c, trans_a, trans_b, alpha, beta)`` computes, for 2-D arrays of one
float dtype (float32 or float64), ``c = alpha * op(a) @ op(b) + beta * c`` in place,
where ``op(x)`` is ``x.T`` when its flag is true. ``c`` must be C-contiguous;
``a`` and ``b`` are used as they are when C-contiguous (a transposed operand is read
by BLAS through its flag, without a copy) and copied otherwise. With ``beta == 0``
``c`` is not read (BLAS semantics: NaN in ``c`` does not propagate).

Why a kernel of its own rather than ``np.dot(a, b, out)``: a matmul epilogue such as
the SGD update ``W - lr * (x.T @ dh)`` becomes ONE BLAS call (``alpha = -lr``,
``beta = 1``, ``c`` = W's array) instead of a product into a fresh array and a loop
over it; and the kernel is compiled once per dtype and cached on disk, shared by
every program (a program calling it types a call, not Numba's ``np.dot``).

It calls ``graphdl_cblas_sgemm`` / ``graphdl_cblas_dgemm``, symbols that
numba_cpu/blas_library.py binds on import of this module to NumPy's own OpenBLAS
(the library ``np.dot`` uses; faster here than SciPy's) or, where NumPy has none, to
adapters over SciPy's BLAS (kernels/blas_fallback.py). The machine code names the
symbols, holds no process-specific address, and caches on disk. The call is CBLAS
row-major: C-contiguous arrays go in as they are, a transposed operand as a flag.
"""

import numpy as np
from numba import types

from ..blas_library import SYMBOLS, bind
from ..kernel_cache import library_jit
from .blas_fallback import CBLAS_TRANS, cblas_signature

bind()  # before anything calling these symbols is compiled or loaded from the cache
_sgemm = types.ExternalFunction(SYMBOLS["float32"], cblas_signature(types.float32))
_dgemm = types.ExternalFunction(SYMBOLS["float64"], cblas_signature(types.float64))

_ROW_MAJOR, _NO_TRANS = 101, 111


@library_jit(nogil=True)
def gemm(a, b, c, trans_a, trans_b, alpha, beta):
    """``c = alpha * op(a) @ op(b) + beta * c`` (see the module docstring)."""
    if not c.flags.c_contiguous:
        raise ValueError("gemm: the output array must be C-contiguous")
    a = np.ascontiguousarray(a)  # no copy when already C-contiguous
    b = np.ascontiguousarray(b)
    m, n = c.shape
    k = a.shape[0] if trans_a else a.shape[1]
    if m == 0 or n == 0:
        return
    if k == 0:  # an empty sum: c = beta * c (BLAS wants leading dims >= 1)
        for i in range(m):
            for j in range(n):
                c[i, j] = c[i, j] * beta if beta != 0 else 0
        return
    ta = np.intc(CBLAS_TRANS if trans_a else _NO_TRANS)
    tb = np.intc(CBLAS_TRANS if trans_b else _NO_TRANS)
    if c.itemsize == 8:
        _dgemm(np.intc(_ROW_MAJOR), ta, tb, m, n, k, np.float64(alpha), a.ctypes,
               a.shape[1], b.ctypes, b.shape[1], np.float64(beta), c.ctypes, n)
    else:
        _sgemm(np.intc(_ROW_MAJOR), ta, tb, m, n, k, np.float32(alpha), a.ctypes,
               a.shape[1], b.ctypes, b.shape[1], np.float32(beta), c.ctypes, n)
