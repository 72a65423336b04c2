"""Launch configurations and device helpers every CUDA kernel here shares.

Launch configurations (documented in docs/cuda.md):

* 1-D kernels (elementwise, copies, im2col, pooling): ``THREADS`` threads per
  block (256 on a GPU: 8 warps, enough to hide memory latency at full occupancy;
  32 on the simulator, which starts one OS thread per CUDA thread), and
  ``blocks(n)`` blocks, capped at ``MAX_BLOCKS``: every kernel walks its data with
  a grid-stride loop, so any grid covers any size and one launch configuration
  serves every run.
* Row kernels (reductions, softmax): one block of ``ROW_THREADS`` threads per
  row, grid-stride over rows.
* Tiled matmul: ``TILE x TILE`` threads per block (16x16 = 256 on a GPU, 8x8 = 64
  on the simulator), one block per output tile, grid z over the batch.

Integer shapes and strides travel as tuples (passed by value, cheap to launch),
padded to rank >= 1 so rank-0 arrays need no special kernels.
"""

import math

from numba import cuda

from ..device import simulating

SIM = simulating()
WARP = 32
THREADS = 32 if SIM else 256
ROW_THREADS = 32 if SIM else 128
MAX_BLOCKS = 2 if SIM else 4096
TILE = 8 if SIM else 16
#: warp-shuffle steps in reductions; the simulator has no warp intrinsics
USE_SHUFFLE = not SIM


def blocks(n, threads=THREADS):
    """Blocks for a grid-stride loop over ``n`` items (at least one)."""
    return max(1, min(math.ceil(n / threads), MAX_BLOCKS))


def row_blocks(rows):
    return max(1, min(rows, MAX_BLOCKS * 4 if not SIM else 4))


def contiguous_strides(shape):
    """Element strides of a C-contiguous array of ``shape``."""
    strides, step = [], 1
    for d in reversed(shape):
        strides.append(step)
        step *= d
    return tuple(reversed(strides))


def padded(shape, strides):
    """(shape, strides) as tuples of rank >= 1 (rank 0 becomes (1,), (0,))."""
    if not shape:
        return (1,), (0,)
    return tuple(int(d) for d in shape), tuple(int(s) for s in strides)


@cuda.jit(device=True, inline="always")
def offset_of(i, shape, strides):
    """Memory offset of flat C-order index ``i`` into an array of ``shape`` with
    element ``strides`` (stride 0 along a broadcast axis)."""
    off = 0
    for d in range(len(shape) - 1, -1, -1):
        n = shape[d]
        off += (i % n) * strides[d]
        i //= n
    return off


@cuda.jit(device=True, inline="always")
def sign(x):
    if x > 0:
        return 1
    if x < 0:
        return -1
    return 0


SUM, MAX, MIN = 0, 1, 2


@cuda.jit(device=True, inline="always")
def combine(a, b, mode):
    """sum / max / min of two values; max and min propagate NaN like NumPy."""
    if mode == SUM:
        return a + b
    if mode == MAX:
        return a if (a >= b or a != a) else b
    return a if (a <= b or a != a) else b


@cuda.jit(device=True, inline="always")
def block_reduce(buf, v, mode):
    """Every thread of the block passes ``v``; every thread gets the block's
    reduction. ``buf``: a shared array with one slot per thread. Shared-memory
    tree halving steps down to one warp, then warp shuffles on a GPU (shared
    steps all the way down on the simulator, which has no warp intrinsics)."""
    t = cuda.threadIdx.x
    buf[t] = v
    cuda.syncthreads()
    s = cuda.blockDim.x // 2
    stop = WARP if USE_SHUFFLE else 1
    while s >= stop:
        if t < s:
            buf[t] = combine(buf[t], buf[t + s], mode)
        cuda.syncthreads()
        s //= 2
    if USE_SHUFFLE:
        if t < WARP:
            w = buf[t]
            off = WARP // 2
            while off > 0:
                w = combine(w, cuda.shfl_down_sync(0xFFFFFFFF, w, off), mode)
                off //= 2
            if t == 0:
                buf[0] = w
        cuda.syncthreads()
    result = buf[0]
    cuda.syncthreads()  # buf is free again for the caller's next reduction
    return result


@cuda.jit(device=True, inline="always")
def better(a, ia, b, ib, mode):
    """Whether (value a, index ia) wins over (b, ib) for argmax (mode MAX) or argmin:
    NaN wins (NumPy returns the first NaN), ties go to the smaller index."""
    if a != a:
        return b == b or ia < ib
    if b != b:
        return False
    if a == b:
        return ia < ib
    if mode == MAX:
        return a > b
    return a < b


@cuda.jit(device=True, inline="always")
def block_argreduce(vbuf, ibuf, v, i, mode):
    """Like :func:`block_reduce` for (value, index) pairs; returns the winning index."""
    t = cuda.threadIdx.x
    vbuf[t] = v
    ibuf[t] = i
    cuda.syncthreads()
    s = cuda.blockDim.x // 2
    stop = WARP if USE_SHUFFLE else 1
    while s >= stop:
        if t < s and better(vbuf[t + s], ibuf[t + s], vbuf[t], ibuf[t], mode):
            vbuf[t] = vbuf[t + s]
            ibuf[t] = ibuf[t + s]
        cuda.syncthreads()
        s //= 2
    if USE_SHUFFLE:
        if t < WARP:
            w = vbuf[t]
            j = ibuf[t]
            off = WARP // 2
            while off > 0:
                w2 = cuda.shfl_down_sync(0xFFFFFFFF, w, off)
                j2 = cuda.shfl_down_sync(0xFFFFFFFF, j, off)
                if better(w2, j2, w, j, mode):
                    w = w2
                    j = j2
                off //= 2
            if t == 0:
                ibuf[0] = j
        cuda.syncthreads()
    result = ibuf[0]
    cuda.syncthreads()
    return result
