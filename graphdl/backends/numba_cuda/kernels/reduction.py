"""Row reductions over a contiguous (rows, k) array: sum, mean, max, min, argmax,
argmin. Other axes are moved last first (a strided copy), so one kernel serves
every reduction.

Launch: one block of ``ROW_THREADS`` threads per row (grid-stride over rows);
each thread folds a strided slice of the row, then ``block_reduce`` combines the
threads (shared-memory tree, then warp shuffles on a GPU). Rendered per dtype
(``DT``) because the shared buffers are typed.
"""

from numba import cuda, int64
from numba import float32 as DT  # graphdl: dtype

from .common import MAX, ROW_THREADS, SUM, better, block_argreduce, block_reduce, combine


@cuda.jit(cache=True)
def reduce_rows(out, x, rows, k, mode, scale):
    """out[r] = reduce(x[r, :]) * scale; mode SUM, MAX or MIN; k >= 1."""
    buf = cuda.shared.array(ROW_THREADS, DT)
    t = cuda.threadIdx.x
    for r in range(cuda.blockIdx.x, rows, cuda.gridDim.x):
        base = r * k
        if mode == SUM:
            acc = DT(0)
        else:  # max/min are idempotent: start from an element of the row itself
            acc = x[base + min(t, k - 1)]
        for j in range(t, k, ROW_THREADS):
            acc = combine(acc, x[base + j], mode)
        total = block_reduce(buf, acc, mode)
        if t == 0:
            out[r] = total * scale if mode == SUM else total


@cuda.jit(cache=True)
def argreduce_rows(out, x, rows, k, mode):
    """out[r] = index of the max (mode MAX) or min of x[r, :]; ties: the first."""
    vbuf = cuda.shared.array(ROW_THREADS, DT)
    ibuf = cuda.shared.array(ROW_THREADS, int64)
    t = cuda.threadIdx.x
    for r in range(cuda.blockIdx.x, rows, cuda.gridDim.x):
        base = r * k
        j0 = min(t, k - 1)
        best = x[base + j0]
        at = j0
        for j in range(t, k, ROW_THREADS):
            if better(x[base + j], j, best, at, mode):
                best = x[base + j]
                at = j
        won = block_argreduce(vbuf, ibuf, best, at, mode)
        if t == 0:
            out[r] = won


__all__ = ["MAX", "argreduce_rows", "reduce_rows"]
