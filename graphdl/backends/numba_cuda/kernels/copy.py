"""Data movement: strided copies (transpose, slicing, broadcast, concat, split,
stack, permutes before reductions) and fills. Dtype-generic: no shared memory.

All arrays are flat 1-D device arrays; shapes, strides and offsets (in
elements) are tuples and ints, so one kernel serves every view NumPy's basic
indexing can make. Launch: 1-D grid-stride, ``THREADS`` per block.
"""

from numba import cuda

from .common import offset_of


@cuda.jit(cache=True)
def copy_strided(dst, d_off, d_strides, src, s_off, s_strides, shape, n):
    """dst[view] = src[view] for the ``n`` elements of ``shape``; each side is a
    view (offset, strides) into a flat array. Strides 0 broadcast."""
    start = cuda.grid(1)
    step = cuda.gridsize(1)
    for i in range(start, n, step):
        dst[d_off + offset_of(i, shape, d_strides)] = src[s_off + offset_of(i, shape, s_strides)]


@cuda.jit(cache=True)
def fill(dst, value, n):
    """dst[:n] = value."""
    start = cuda.grid(1)
    step = cuda.gridsize(1)
    for i in range(start, n, step):
        dst[i] = value


@cuda.jit(cache=True)
def copy_flat(dst, src, n):
    """dst[:n] = src[:n] (with a dtype conversion when they differ)."""
    start = cuda.grid(1)
    step = cuda.gridsize(1)
    for i in range(start, n, step):
        dst[i] = src[i]
