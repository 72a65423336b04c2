"""CPU library kernels for convolution and pooling (the ops of :mod:`graphdl.ops.conv`).

Every kernel is ``@numba.njit(cache=True)`` and size-independent: one compile per
dtype serves every shape, and the compiled code is cached on disk, shared by every
generated Program that calls it. Kernels write into a caller-provided ``out`` (so
generated code can reuse buffers) and return nothing.

Contract for callers (generated code)
-------------------------------------
* Layouts: images NCHW, conv weights OIHW, all arrays **C-contiguous** and of the
  **same float dtype** (float32 or float64; cast before calling). Mixing dtypes or
  layouts works but compiles another specialization.
* Geometry is plain ints: ``sh, sw`` strides, ``pt, pl`` the padding before the rows
  and the columns (top, left). The padding after is implied by the sizes of ``out``
  (or of ``g``): the caller computes them with :func:`axis_geometry` per spatial axis
  (njit-callable), from the op's attributes encoded by :func:`padding_args`.
* ``kh, kw`` for pooling are the window size; for conv they come from ``w`` / ``out``.
* Every kernel overwrites all of ``out`` (no need to zero it first).
* Inconsistent leading shapes raise ``ValueError`` (out-of-bounds access is never
  possible: reads outside the image are padding, writes stay inside ``out``).

Signatures (N batch, C in-channels, O out-channels, H W image, OH OW output)::

    conv2d(x, w, out, sh, sw, pt, pl)
        x (N, C, H, W), w (O, C, kh, kw) -> out (N, O, OH, OW)
    conv2d_backprop_input(g, w, out, sh, sw, pt, pl)
        g (N, O, OH, OW), w (O, C, kh, kw) -> out (N, C, H, W)   [x's shape]
    conv2d_backprop_filter(x, g, out, sh, sw, pt, pl)
        x (N, C, H, W), g (N, O, OH, OW) -> out (O, C, kh, kw)   [w's shape]
    max_pool2d(x, out, kh, kw, sh, sw, pt, pl)
        x (N, C, H, W) -> out (N, C, OH, OW)
    max_pool2d_backprop(x, g, out, kh, kw, sh, sw, pt, pl)
        x (N, C, H, W), g (N, C, OH, OW) -> out (N, C, H, W)
    max_pool2d_gather(x, v, out, kh, kw, sh, sw, pt, pl)
        x, v (N, C, H, W) -> out (N, C, OH, OW)
    avg_pool2d(x, out, kh, kw, sh, sw, pt, pl)
        x (N, C, H, W) -> out (N, C, OH, OW)
    avg_pool2d_backprop(g, out, kh, kw, sh, sw, pt, pl)
        g (N, C, OH, OW) -> out (N, C, H, W)                      [x's shape]

    axis_geometry(n, k, s, same, before, after) -> (pad_before, out_size)   njit
    padding_args(padding) -> (same, top, bottom, left, right)               Python

Semantics are exactly the reference ``forward`` of each op: TensorFlow's "same"
rule (odd extra pixel padded after); max pooling treats padding as -inf and
routes to the first maximum of the window in row-major order (a NaN counts as
the maximum, like ``np.argmax``; a window whose maximum is padding routes
nowhere); average pooling divides by the number of real (non-padding) pixels.
One difference: where ``g`` holds inf/NaN, max_pool2d_backprop gives the
non-argmax pixels 0, where the reference's ``0 * inf`` makes them NaN.

How: convolutions are im2col + BLAS per image (``np.dot`` into a view of ``out``,
needs SciPy), which keeps the column buffer in cache; pooling is direct loops.
"""

import numpy as np
from numba import njit

__all__ = [
    "avg_pool2d",
    "avg_pool2d_backprop",
    "axis_geometry",
    "conv2d",
    "conv2d_backprop_filter",
    "conv2d_backprop_input",
    "max_pool2d",
    "max_pool2d_backprop",
    "max_pool2d_gather",
    "padding_args",
]


# -- geometry ----------------------------------------------------------------------
def padding_args(padding):
    """An op's normalized ``padding`` attribute ("valid", "same" or
    ((top, bottom), (left, right))) as plain ints ``(same, top, bottom, left, right)``
    for :func:`axis_geometry` (with ``same`` = 1 the explicit amounts are 0, unused)."""
    if padding == "same":
        return (1, 0, 0, 0, 0)
    if padding == "valid":
        return (0, 0, 0, 0, 0)
    (t, b), (le, r) = padding
    return (0, int(t), int(b), int(le), int(r))


@njit(cache=True)
def axis_geometry(n, k, s, same, before, after):
    """(padding before, output size) of one spatial axis of size ``n`` for a window
    ``k`` moved by ``s``; ``same`` = 1 is TensorFlow's rule (output ceil(n / s)),
    else the explicit ``before``/``after`` amounts. The size may be < 1 when the
    window does not fit: the caller raises."""
    if same:
        total = ((n + s - 1) // s - 1) * s + k - n
        if total < 0:
            total = 0
        before = total // 2
        after = total - before
    return before, (n + before + after - k) // s + 1


@njit(cache=True)
def _valid_range(n_out, n_in, offset, s):
    """[lo, hi) of output positions o with 0 <= o * s + offset < n_in."""
    lo = 0
    if offset < 0:
        lo = (-offset + s - 1) // s
    hi = 0
    if n_in - offset > 0:
        hi = (n_in - offset + s - 1) // s
    if hi > n_out:
        hi = n_out
    if lo > hi:
        lo = hi
    return lo, hi


# -- im2col and its adjoint ----------------------------------------------------------
@njit(cache=True)
def _im2col(x, n, cols, kh, kw, sh, sw, pt, pl, oh, ow):
    """cols[(c, i, j), r * ow + q] = x[n, c, r*sh - pt + i, q*sw - pl + j] (0 outside)."""
    C, H, W = x.shape[1], x.shape[2], x.shape[3]
    for c in range(C):
        for i in range(kh):
            r0, r1 = _valid_range(oh, H, i - pt, sh)
            for j in range(kw):
                q0, q1 = _valid_range(ow, W, j - pl, sw)
                row = (c * kh + i) * kw + j
                for r in range(oh):
                    base = r * ow
                    if r < r0 or r >= r1:
                        for q in range(ow):
                            cols[row, base + q] = 0
                        continue
                    ih = r * sh - pt + i
                    for q in range(q0):
                        cols[row, base + q] = 0
                    for q in range(q0, q1):
                        cols[row, base + q] = x[n, c, ih, q * sw - pl + j]
                    for q in range(q1, ow):
                        cols[row, base + q] = 0


@njit(cache=True)
def _col2im(cols, out, n, kh, kw, sh, sw, pt, pl, oh, ow):
    """out[n] = the adjoint of _im2col applied to cols (sums overlapping windows)."""
    C, H, W = out.shape[1], out.shape[2], out.shape[3]
    for c in range(C):
        for ih in range(H):
            for iw in range(W):
                out[n, c, ih, iw] = 0
        for i in range(kh):
            r0, r1 = _valid_range(oh, H, i - pt, sh)
            for j in range(kw):
                q0, q1 = _valid_range(ow, W, j - pl, sw)
                row = (c * kh + i) * kw + j
                for r in range(r0, r1):
                    ih = r * sh - pt + i
                    base = r * ow
                    for q in range(q0, q1):
                        out[n, c, ih, q * sw - pl + j] += cols[row, base + q]


# -- convolution -------------------------------------------------------------------
@njit(cache=True)
def conv2d(x, w, out, sh, sw, pt, pl):
    """out (N, O, OH, OW) = cross-correlation of x (N, C, H, W) with w (O, C, kh, kw)."""
    N, C = x.shape[0], x.shape[1]
    O, kh, kw = w.shape[0], w.shape[2], w.shape[3]
    oh, ow = out.shape[2], out.shape[3]
    if w.shape[1] != C or out.shape[0] != N or out.shape[1] != O:
        raise ValueError("conv2d kernel: inconsistent x, w, out shapes")
    k, p = C * kh * kw, oh * ow
    wm = w.reshape(O, k)
    cols = np.empty((k, p), out.dtype)
    for n in range(N):
        _im2col(x, n, cols, kh, kw, sh, sw, pt, pl, oh, ow)
        np.dot(wm, cols, out[n].reshape(O, p))


@njit(cache=True)
def conv2d_backprop_input(g, w, out, sh, sw, pt, pl):
    """out (N, C, H, W) = gradient of conv2d w.r.t. x for output cotangent g."""
    N, O, oh, ow = g.shape[0], g.shape[1], g.shape[2], g.shape[3]
    C, kh, kw = w.shape[1], w.shape[2], w.shape[3]
    if w.shape[0] != O or out.shape[0] != N or out.shape[1] != C:
        raise ValueError("conv2d_backprop_input kernel: inconsistent g, w, out shapes")
    k, p = C * kh * kw, oh * ow
    wt = np.ascontiguousarray(w.reshape(O, k).T)
    cols = np.empty((k, p), out.dtype)
    for n in range(N):
        np.dot(wt, g[n].reshape(O, p), cols)
        _col2im(cols, out, n, kh, kw, sh, sw, pt, pl, oh, ow)


@njit(cache=True)
def conv2d_backprop_filter(x, g, out, sh, sw, pt, pl):
    """out (O, C, kh, kw) = gradient of conv2d w.r.t. w for output cotangent g."""
    N, C = x.shape[0], x.shape[1]
    O, oh, ow = g.shape[1], g.shape[2], g.shape[3]
    kh, kw = out.shape[2], out.shape[3]
    if g.shape[0] != N or out.shape[0] != O or out.shape[1] != C:
        raise ValueError("conv2d_backprop_filter kernel: inconsistent x, g, out shapes")
    k, p = C * kh * kw, oh * ow
    cols = np.empty((k, p), out.dtype)
    part = np.empty((O, k), out.dtype)
    acc = out.reshape(O, k)
    for n in range(N):
        _im2col(x, n, cols, kh, kw, sh, sw, pt, pl, oh, ow)
        if n == 0:
            np.dot(g[n].reshape(O, p), cols.T, acc)
        else:
            np.dot(g[n].reshape(O, p), cols.T, part)
            for o in range(O):
                for m in range(k):
                    acc[o, m] += part[o, m]


# -- pooling -----------------------------------------------------------------------
@njit(cache=True)
def _window_argmax(x, n, c, r, q, kh, kw, sh, sw, pt, pl):
    """(ih, iw, value) of the first maximum of one window, padding = -inf, a NaN
    winning like np.argmax; ih = -1 when the maximum is padding."""
    H, W = x.shape[2], x.shape[3]
    best = -np.inf
    bi, bj = -1, -1
    first = True
    for i in range(kh):
        ih = r * sh - pt + i
        for j in range(kw):
            iw = q * sw - pl + j
            inside = ih >= 0 and ih < H and iw >= 0 and iw < W
            v = x[n, c, ih, iw] if inside else -np.inf
            if v != v:  # NaN: np.argmax stops at the first one
                return (ih, iw, v) if inside else (-1, -1, v)
            if first or v > best:
                best = v
                bi, bj = (ih, iw) if inside else (-1, -1)
                first = False
    return bi, bj, best


@njit(cache=True)
def max_pool2d(x, out, kh, kw, sh, sw, pt, pl):
    """out (N, C, OH, OW) = max over each kh x kw window of x (padding never wins)."""
    N, C = x.shape[0], x.shape[1]
    oh, ow = out.shape[2], out.shape[3]
    if out.shape[0] != N or out.shape[1] != C:
        raise ValueError("max_pool2d kernel: inconsistent x, out shapes")
    for n in range(N):
        for c in range(C):
            for r in range(oh):
                for q in range(ow):
                    out[n, c, r, q] = _window_argmax(x, n, c, r, q, kh, kw, sh, sw, pt, pl)[2]


@njit(cache=True)
def max_pool2d_backprop(x, g, out, kh, kw, sh, sw, pt, pl):
    """out (N, C, H, W): each window's g added at the argmax of x in that window."""
    N, C = x.shape[0], x.shape[1]
    oh, ow = g.shape[2], g.shape[3]
    if g.shape[0] != N or g.shape[1] != C or out.shape[0] != N or out.shape[1] != C:
        raise ValueError("max_pool2d_backprop kernel: inconsistent x, g, out shapes")
    H, W = x.shape[2], x.shape[3]
    for n in range(N):
        for c in range(C):
            for ih in range(H):
                for iw in range(W):
                    out[n, c, ih, iw] = 0
            for r in range(oh):
                for q in range(ow):
                    bi, bj, _ = _window_argmax(x, n, c, r, q, kh, kw, sh, sw, pt, pl)
                    if bi >= 0:
                        out[n, c, bi, bj] += g[n, c, r, q]


@njit(cache=True)
def max_pool2d_gather(x, v, out, kh, kw, sh, sw, pt, pl):
    """out (N, C, OH, OW): v read at the argmax of x in each window (0 if padding)."""
    N, C = x.shape[0], x.shape[1]
    oh, ow = out.shape[2], out.shape[3]
    if (v.shape[0] != N or v.shape[1] != C or v.shape[2] != x.shape[2]
            or v.shape[3] != x.shape[3] or out.shape[0] != N or out.shape[1] != C):
        raise ValueError("max_pool2d_gather kernel: inconsistent x, v, out shapes")
    for n in range(N):
        for c in range(C):
            for r in range(oh):
                for q in range(ow):
                    bi, bj, _ = _window_argmax(x, n, c, r, q, kh, kw, sh, sw, pt, pl)
                    out[n, c, r, q] = v[n, c, bi, bj] if bi >= 0 else 0


@njit(cache=True)
def avg_pool2d(x, out, kh, kw, sh, sw, pt, pl):
    """out (N, C, OH, OW) = mean of each window's real (non-padding) pixels."""
    N, C, H, W = x.shape[0], x.shape[1], x.shape[2], x.shape[3]
    oh, ow = out.shape[2], out.shape[3]
    if out.shape[0] != N or out.shape[1] != C:
        raise ValueError("avg_pool2d kernel: inconsistent x, out shapes")
    for r in range(oh):
        i0, i1 = max(r * sh - pt, 0), min(r * sh - pt + kh, H)
        for q in range(ow):
            j0, j1 = max(q * sw - pl, 0), min(q * sw - pl + kw, W)
            count = (i1 - i0) * (j1 - j0)
            for n in range(N):
                for c in range(C):
                    s = 0.0  # float64 accumulator, rounded once on the store
                    for ih in range(i0, i1):
                        for iw in range(j0, j1):
                            s += x[n, c, ih, iw]
                    out[n, c, r, q] = s / count


@njit(cache=True)
def avg_pool2d_backprop(g, out, kh, kw, sh, sw, pt, pl):
    """out (N, C, H, W): each window's g / count spread over its real pixels."""
    N, C, oh, ow = g.shape[0], g.shape[1], g.shape[2], g.shape[3]
    H, W = out.shape[2], out.shape[3]
    if out.shape[0] != N or out.shape[1] != C:
        raise ValueError("avg_pool2d_backprop kernel: inconsistent g, out shapes")
    for n in range(N):
        for c in range(C):
            for ih in range(H):
                for iw in range(W):
                    out[n, c, ih, iw] = 0
            for r in range(oh):
                i0, i1 = max(r * sh - pt, 0), min(r * sh - pt + kh, H)
                for q in range(ow):
                    j0, j1 = max(q * sw - pl, 0), min(q * sw - pl + kw, W)
                    share = g[n, c, r, q] / ((i1 - i0) * (j1 - j0))
                    for ih in range(i0, i1):
                        for iw in range(j0, j1):
                            out[n, c, ih, iw] += share
