"""Dropout masks from a counter-based generator: element ``e`` of a launch with
key ``k`` draws ``u = splitmix64(k + e * golden) / 2**64``.

Counter-based (like Philox in cuRAND or JAX's threefry) rather than
numba.cuda.random's xoroshiro states: no state arrays to allocate or carry
between runs, any launch configuration gives the same mask, the simulator and a
GPU draw the same values, and the kernel compiles to PTX without a GPU present
(numba.cuda.random's CPU-jitted helpers need a live CUDA context to type).
The host draws a fresh key per launch from the session's NumPy generator, so a
session's seed makes the sequence of masks repeat. The masks are NOT the CPU
backends' masks (those come from NumPy's PCG64 stream): tests compare
statistics and forward/backward consistency, not values.
"""

from numba import cuda, float64, uint64


@cuda.jit(device=True, inline="always")
def splitmix64(z):
    z = (z ^ (z >> uint64(30))) * uint64(0xBF58476D1CE4E5B9)
    z = (z ^ (z >> uint64(27))) * uint64(0x94D049BB133111EB)
    return z ^ (z >> uint64(31))


@cuda.jit(cache=True)
def dropout_mask(out, key, rate, total):
    """out[e] = 0 with probability ``rate``, else 1 / (1 - rate)."""
    scale = 1.0 / (1.0 - rate)
    for e in range(cuda.grid(1), total, cuda.gridsize(1)):
        z = splitmix64(key + uint64(e) * uint64(0x9E3779B97F4A7C15))
        u = float64(z >> uint64(11)) * (1.0 / 9007199254740992.0)
        out[e] = scale if u >= rate else 0.0
