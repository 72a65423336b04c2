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

It calls Numba's own ``numba_xxgemm`` helper (the same SciPy BLAS, ``cython_blas``,
that ``np.dot`` uses inside njit), declared by name, so the machine code holds no
process-specific address and caches like any other function. BLAS is column-major:
a row-major ``c = op(a) @ op(b)`` is the column-major ``c.T = op(b).T @ op(a).T``,
hence the swapped operands below.
"""

import numpy as np
from numba import njit, types

from .alloc import empty

_GEMM_SIGNATURE = types.intc(
    types.char,                               # kind: 's' float32, 'd' float64
    types.char, types.char,                   # transa, transb: 'n' or 't'
    types.intp, types.intp, types.intp,       # m, n, k (column-major)
    types.voidptr, types.voidptr, types.intp,  # alpha, a, lda
    types.voidptr, types.intp,                # b, ldb
    types.voidptr, types.voidptr, types.intp,  # beta, c, ldc
)
_xxgemm = types.ExternalFunction("numba_xxgemm", _GEMM_SIGNATURE)

_N, _T, _S, _D = ord("n"), ord("t"), ord("s"), ord("d")


@njit(cache=True, nogil=True)
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
    scalars = empty(2, c.dtype)  # kernels/alloc.py: no np.empty overload to compile
    scalars[0] = alpha
    scalars[1] = beta
    kind = _D if c.itemsize == 8 else _S
    _xxgemm(kind, _T if trans_b else _N, _T if trans_a else _N, n, m, k,
            scalars.ctypes, b.ctypes, b.shape[1], a.ctypes, a.shape[1],
            scalars[1:].ctypes, c.ctypes, n)
