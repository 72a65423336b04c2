"""Tiled shared-memory matmul, batched with broadcasting, transposes as strides.

``c[z] = a[z] @ b[z]`` for every batch index z of ``bshape``; each operand is a
view given by batch strides (0 along a broadcast batch axis) and row/column
strides, so ``a.T @ b`` is the same kernel with a's strides swapped: no copies
for the transposes that gradients make. Rendered per dtype (typed tiles).

Launch: ``TILE x TILE`` threads per block (16x16 = 256 on a GPU), grid
(ceil(m / TILE), ceil(n / TILE), min(batch, 65535)); each block stages a TILE-wide
slab of a and b through shared memory per step along k, so every element is read
from global memory k / TILE times instead of k times.
"""

from numba import cuda
from numba import float32 as DT  # graphdl: dtype

from .common import TILE, offset_of


@cuda.jit(cache=True)
def matmul(c, a, b, n, m, k, batch, bshape, a_bs, a_rs, a_cs, b_bs, b_rs, b_cs):
    sa = cuda.shared.array((TILE, TILE), DT)
    sb = cuda.shared.array((TILE, TILE), DT)
    tx = cuda.threadIdx.x
    ty = cuda.threadIdx.y
    row = cuda.blockIdx.y * TILE + ty
    col = cuda.blockIdx.x * TILE + tx
    for z in range(cuda.blockIdx.z, batch, cuda.gridDim.z):
        a0 = offset_of(z, bshape, a_bs)
        b0 = offset_of(z, bshape, b_bs)
        acc = DT(0)
        for t0 in range(0, k, TILE):
            ka = t0 + tx
            if row < n and ka < k:
                sa[ty, tx] = a[a0 + row * a_rs + ka * a_cs]
            else:
                sa[ty, tx] = DT(0)
            kb = t0 + ty
            if kb < k and col < m:
                sb[ty, tx] = b[b0 + kb * b_rs + col * b_cs]
            else:
                sb[ty, tx] = DT(0)
            cuda.syncthreads()
            for j in range(TILE):
                acc += sa[ty, j] * sb[j, tx]
            cuda.syncthreads()
        if row < n and col < m:
            c[z * n * m + row * m + col] = acc
