"""gather and its gradient (ops/array.py). Dtype-generic.

Arrays are seen as (outer, axis, inner) blocks: ``params`` (outer, A, inner),
``indices`` flat (I,), the gathered array (outer, I, inner). Negative indices
count from the end; an out-of-range index cannot raise on the device, so it is
recorded in ``error`` (code, index) for the host to raise before committing,
and the element reads index 0 instead.

``gather_add`` accumulates with atomic adds (repeated indices add up, as in
``np.add.at``): fast for embedding tables of any size, but the order of the
additions varies between runs, so float results can differ in the last bits.
Launch: 1-D grid-stride over the gathered elements.
"""

from numba import cuda


@cuda.jit(device=True, inline="always")
def _index(indices, i, size, error, code):
    j = indices[i]
    if j < 0:
        j += size
    if j < 0 or j >= size:
        if cuda.atomic.cas(error, 0, 0, code) == 0:
            error[1] = indices[i]
        return 0
    return j


@cuda.jit(cache=True)
def gather(out, params, indices, dims, error, code):
    """out[o, i, r] = params[o, indices[i], r]; dims = (outer, A, I, inner)."""
    outer, size, n_idx, inner = dims
    total = outer * n_idx * inner
    for e in range(cuda.grid(1), total, cuda.gridsize(1)):
        r = e % inner
        i = (e // inner) % n_idx
        o = e // (inner * n_idx)
        j = _index(indices, i, size, error, code)
        out[e] = params[(o * size + j) * inner + r]


@cuda.jit(cache=True)
def gather_add(out, g, indices, dims, error, code):
    """out[o, indices[i], r] += g[o, i, r] (out zero-filled first)."""
    outer, size, n_idx, inner = dims
    total = outer * n_idx * inner
    for e in range(cuda.grid(1), total, cuda.gridsize(1)):
        r = e % inner
        i = (e // inner) % n_idx
        o = e // (inner * n_idx)
        j = _index(indices, i, size, error, code)
        cuda.atomic.add(out, (o * size + j) * inner + r, g[e])
