"""Device-side checks of whole arrays. Dtype-generic (float dtypes).

Launch: 1-D grid-stride, ``THREADS`` per block.
"""

import math

from numba import cuda


@cuda.jit(cache=True)
def flag_non_finite(flags, k, x, n):
    """flags[k] = 1 when x[:n] holds a NaN or an inf (else flags[k] is left alone);
    every thread that finds one writes the same 1, so the race is harmless."""
    start = cuda.grid(1)
    step = cuda.gridsize(1)
    for i in range(start, n, step):
        v = x[i]
        if math.isnan(v) or math.isinf(v):
            flags[k] = 1
