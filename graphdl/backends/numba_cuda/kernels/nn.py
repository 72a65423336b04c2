"""Softmax and log-softmax as row kernels over a contiguous (rows, k) array (the
axis moved last first). Rendered per dtype (typed shared buffers).

Launch: one block of ``ROW_THREADS`` threads per row, grid-stride over rows;
three passes over the row (max, sum of exp(x - max), write), the first two
combined across threads by ``block_reduce``. The row stays in L1/L2 between
passes for the row lengths of classifiers.
"""

import math

from numba import cuda
from numba import float32 as DT  # graphdl: dtype

from .common import MAX, ROW_THREADS, SUM, block_reduce, combine


@cuda.jit(cache=True)
def softmax_rows(out, x, rows, k, log):
    """out[r] = softmax(x[r]) (``log`` false) or log_softmax(x[r]); k >= 1."""
    buf = cuda.shared.array(ROW_THREADS, DT)
    t = cuda.threadIdx.x
    for r in range(cuda.blockIdx.x, rows, cuda.gridDim.x):
        base = r * k
        m = x[base + min(t, k - 1)]
        for j in range(t, k, ROW_THREADS):
            m = combine(m, x[base + j], MAX)
        m = block_reduce(buf, m, MAX)
        s = DT(0)
        for j in range(t, k, ROW_THREADS):
            s += math.exp(x[base + j] - m)
        s = block_reduce(buf, s, SUM)
        if log:
            ls = math.log(s)
            for j in range(t, k, ROW_THREADS):
                out[base + j] = (x[base + j] - m) - ls
        else:
            for j in range(t, k, ROW_THREADS):
                out[base + j] = math.exp(x[base + j] - m) / s
