"""CPU library kernels for convolution and pooling (the ops of :mod:`graphdl.ops.conv`).

Every kernel is ``@library_jit`` (``njit(cache=True)`` keyed by the whole kernel
library, :mod:`..kernel_cache`) and size-independent: one compile per dtype serves
every shape, and the compiled code is cached on disk, shared by every generated
Program, which calls it by address (:mod:`.library`: its signatures per dtype).
Kernels write into a caller-provided ``out`` (so generated code can reuse buffers)
and return nothing.

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
non-argmax pixels of windows off the 2x2 / stride-2 path 0, where the reference's
``0 * inf`` makes them NaN (on that path it multiplies too, like the reference).

How: convolutions are im2col + BLAS (:func:`.blas.gemm`, the same cached gemm
kernel the matmuls use, called by address: load it before calling a convolution
directly, ``library.ensure("gemm", dtype)``). conv2d and its input gradient give
one GEMM the columns of a block of images (up to ``BLOCK_ROWS`` output pixels:
OpenBLAS is faster on the longer product), as (pixels, channels) products
transposed into ``out`` or read from ``g`` by a transposing copy; the filter
gradient takes one product per image, accumulated over the images inside gemm
with ``beta = 1`` (a block measured no faster there). Each image is copied once
into a zero-padded channels-last buffer, so a window row is ``kw * C`` contiguous
values and im2col is straight copies; a block's columns stay in cache (about 1 MB
at the CNN's 32 -> 64 layer). With few channels (``kw * C`` < ``SMALL_RUN``, e.g. a first
layer on grey images) conv2d and its filter gradient build channels-first columns
instead (rows of ``OW`` contiguous values), 2.5x faster there. Pooling is direct
loops with an unrolled path for 2x2 windows of stride 2 (max and average). Hot
loops index flat views with unsigned ints: Numba's negative-index fix-up on
signed indices stops LLVM from vectorizing (5x on im2col). Run-time strides in a
vectorizable loop make LLVM use gathers, which are slow on this CPU (8x on max
pooling): keep them out of inner loops. Stride-2 loads are the exception where
signed indices into row slices do better (see ``_max_2x2_row``).
"""

import numpy as np
from numba import njit
from numba import uint64 as u64

from ..kernel_cache import library_jit  # njit(cache=True) keyed by the whole library
from .alloc import empty, zeros  # intrinsics: no np.empty/np.zeros overload compiles
from .library import gemm  # by address (loaded first, see library.NEEDS): not linked in

SMALL_RUN = 16  # window rows shorter than this (kw * C values) use channels-first im2col
# the columns of several images go to one GEMM, up to this many rows (output
# pixels) in all: OpenBLAS runs longer GEMMs faster, and the block stays in cache
BLOCK_ROWS = 1024

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


@njit(inline="always")  # called by programs: typed into each, never compiled alone
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


@library_jit
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


# -- im2col on a padded channels-last copy, and its adjoint ---------------------------
# Each image is copied once into a zero-padded (Hp, Wp, C) buffer; a window row is
# then kw * C contiguous values, so im2col and col2im are long straight copies with
# no bounds tests. Patches are ordered (i, j, c), the weights are permuted to match.
@library_jit
def _padded_size(n_out, k, s):
    """Rows (or columns) of the padded image that the windows read."""
    return (n_out - 1) * s + k


@library_jit
def _to_padded_hwc(x, n, xp, pt, pl):
    """xp[pt + ih, pl + iw, c] = x[n, c, ih, iw] where that lands inside xp; the
    border of xp is left as it is (zero)."""
    C, H, W = x.shape[1], x.shape[2], x.shape[3]
    hp, wp = xp.shape[0], xp.shape[1]
    i0, i1 = max(0, -pt), min(H, hp - pt)
    j0, j1 = max(0, -pl), min(W, wp - pl)
    for c in range(C):
        for ih in range(i0, i1):
            for iw in range(j0, j1):
                xp[pt + ih, pl + iw, c] = x[n, c, ih, iw]


@library_jit
def _from_padded_hwc(xp, out, n, pt, pl):
    """out[n, c, ih, iw] = xp[pt + ih, pl + iw, c]; 0 where that is outside xp."""
    C, H, W = out.shape[1], out.shape[2], out.shape[3]
    hp, wp = xp.shape[0], xp.shape[1]
    for c in range(C):
        for ih in range(H):
            for iw in range(W):
                a, b = pt + ih, pl + iw
                out[n, c, ih, iw] = xp[a, b, c] if a < hp and b < wp else 0


@library_jit
def _im2col(xp, cols, kh, kw, sh, sw, ow):
    """cols[r * ow + q, (i, j, c)] = xp[r * sh + i, q * sw + j, c]."""
    # unsigned flat indices: Numba adds a negative-index fix-up to every signed
    # index, which keeps LLVM from vectorizing the copy (5x slower here)
    C = u64(xp.shape[2])
    run, row_len, k = u64(kw) * C, u64(xp.shape[1]) * C, u64(cols.shape[1])
    xf, cf = xp.reshape(-1), cols.reshape(-1)
    for p in range(u64(cols.shape[0])):
        r, q = p // u64(ow), p % u64(ow)
        dst = p * k
        src = r * u64(sh) * row_len + q * u64(sw) * C
        for _ in range(kh):
            for m in range(run):
                cf[dst + m] = xf[src + m]
            dst += run
            src += row_len


@library_jit
def _col2im(cols, xp, kh, kw, sh, sw, ow):
    """xp = the adjoint of _im2col applied to cols (overlapping windows summed)."""
    C = u64(xp.shape[2])
    run, row_len, k = u64(kw) * C, u64(xp.shape[1]) * C, u64(cols.shape[1])
    xf, cf = xp.reshape(-1), cols.reshape(-1)
    xf[:] = 0
    for p in range(u64(cols.shape[0])):
        r, q = p // u64(ow), p % u64(ow)
        src = p * k
        dst = r * u64(sh) * row_len + q * u64(sw) * C
        for _ in range(kh):
            for m in range(run):
                xf[dst + m] += cf[src + m]
            src += run
            dst += row_len


@library_jit
def _im2col_cf(x, n, cols, kh, kw, sh, sw, pt, pl, oh, ow):
    """Channels-first im2col for few channels: cols[(c, i, j), r * ow + q] =
    x[n, c, r*sh - pt + i, q*sw - pl + j] (0 outside); rows of ow contiguous values."""
    C, H, W = x.shape[1], x.shape[2], x.shape[3]
    xf, cf = x.reshape(-1), cols.reshape(-1)
    p = u64(oh * ow)
    for c in range(C):
        plane = (n * C + c) * H * W
        for i in range(kh):
            r0, r1 = _valid_range(oh, H, i - pt, sh)
            for j in range(kw):
                q0, q1 = _valid_range(ow, W, j - pl, sw)
                dst = u64((c * kh + i) * kw + j) * p
                for r in range(oh):
                    d = dst + u64(r * ow)
                    if r < r0 or r >= r1:
                        for q in range(u64(ow)):
                            cf[d + q] = 0
                        continue
                    src = plane + (r * sh - pt + i) * W - pl + j
                    for q in range(u64(q0)):
                        cf[d + q] = 0
                    if sw == 1:
                        for q in range(u64(q0), u64(q1)):
                            cf[d + q] = xf[u64(src) + q]
                    else:
                        for q in range(q0, q1):
                            cf[d + u64(q)] = xf[u64(src + q * sw)]
                    for q in range(u64(q1), u64(ow)):
                        cf[d + q] = 0



@library_jit
def _transpose_into(m, of, start):
    """of[start + j * R + i] = m[i, j] for m (R, S): one image's (pixels, channels)
    product written as out's (channels, pixels) block."""
    R, S = u64(m.shape[0]), u64(m.shape[1])
    mf = m.reshape(-1)
    for j in range(S):
        dst = u64(start) + j * R
        for i in range(R):
            of[dst + i] = mf[i * S + j]


@library_jit
def _transpose_from(gf, start, m):
    """m[i, j] = gf[start + j * R + i] for m (R, S): one image's (channels, pixels)
    block of g read as a (pixels, channels) matrix; the adjoint of _transpose_into."""
    R, S = u64(m.shape[0]), u64(m.shape[1])
    mf = m.reshape(-1)
    for j in range(S):
        src = u64(start) + j * R
        for i in range(R):
            mf[i * S + j] = gf[src + i]


@library_jit
def _images_per_block(N, P):
    """How many images' columns (P rows each) one GEMM takes: up to BLOCK_ROWS
    rows, at least one image, at most N."""
    return max(1, min(N, BLOCK_ROWS // max(1, P)))


@library_jit
def _weights_ohwc(w):
    """w (O, C, kh, kw) as an (O, kh * kw * C) matrix in the patches' (i, j, c) order."""
    O, C, kh, kw = w.shape
    wm = empty((O, kh, kw, C), w.dtype)
    for o in range(O):
        for c in range(C):
            for i in range(kh):
                for j in range(kw):
                    wm[o, i, j, c] = w[o, c, i, j]
    return wm.reshape(O, kh * kw * C)


# -- convolution -------------------------------------------------------------------
@library_jit
def conv2d(x, w, out, sh, sw, pt, pl):
    """out (N, O, OH, OW) = cross-correlation of x (N, C, H, W) with w (O, C, kh, kw)."""
    N, C = x.shape[0], x.shape[1]
    O, kh, kw = w.shape[0], w.shape[2], w.shape[3]
    oh, ow = out.shape[2], out.shape[3]
    if w.shape[1] != C or out.shape[0] != N or out.shape[1] != O:
        raise ValueError("conv2d kernel: inconsistent x, w, out shapes")
    if kw * C < SMALL_RUN:  # few channels: channels-first columns, long rows
        wc = w.reshape(O, C * kh * kw)
        colc = empty((C * kh * kw, oh * ow), out.dtype)
        for n in range(N):
            _im2col_cf(x, n, colc, kh, kw, sh, sw, pt, pl, oh, ow)
            gemm(wc, colc, out[n].reshape(O, oh * ow), np.bool_(False), np.bool_(False), 1.0, 0.0)
        return
    wm = _weights_ohwc(w)
    P, k = oh * ow, kh * kw * C
    B = _images_per_block(N, P)
    xp = zeros((_padded_size(oh, kh, sh), _padded_size(ow, kw, sw), C), out.dtype)
    cols = empty((B * P, k), out.dtype)
    # the product pixels x channels (cols @ wm.T), then transposed into out: OpenBLAS
    # is faster at this orientation than at wm @ cols.T straight into out
    prod = empty((B * P, O), out.dtype)
    of = out.reshape(-1)
    for n0 in range(0, N, B):
        nb = min(B, N - n0)
        for b in range(nb):
            _to_padded_hwc(x, n0 + b, xp, pt, pl)
            _im2col(xp, cols[b * P:(b + 1) * P], kh, kw, sh, sw, ow)
        gemm(cols[:nb * P], wm, prod[:nb * P], np.bool_(False), np.bool_(True), 1.0, 0.0)
        for b in range(nb):
            _transpose_into(prod[b * P:(b + 1) * P], of, (n0 + b) * O * P)


@library_jit
def conv2d_backprop_input(g, w, out, sh, sw, pt, pl):
    """out (N, C, H, W) = gradient of conv2d w.r.t. x for output cotangent g."""
    N, O, oh, ow = g.shape[0], g.shape[1], g.shape[2], g.shape[3]
    C, kh, kw = w.shape[1], w.shape[2], w.shape[3]
    if w.shape[0] != O or out.shape[0] != N or out.shape[1] != C:
        raise ValueError("conv2d_backprop_input kernel: inconsistent g, w, out shapes")
    wm = _weights_ohwc(w)
    P, k = oh * ow, kh * kw * C
    B = _images_per_block(N, P)
    xp = empty((_padded_size(oh, kh, sh), _padded_size(ow, kw, sw), C), out.dtype)
    gt = empty((B * P, O), out.dtype)  # g of a block of images, (pixels, channels)
    cols = empty((B * P, k), out.dtype)
    gf = g.reshape(-1)
    for n0 in range(0, N, B):
        nb = min(B, N - n0)
        if nb == 1:  # one image: BLAS reads its (channels, pixels) g transposed
            gemm(g[n0].reshape(O, P), wm, cols[:P], np.bool_(True), np.bool_(False), 1.0,
                 0.0)
        else:
            for b in range(nb):
                _transpose_from(gf, (n0 + b) * O * P, gt[b * P:(b + 1) * P])
            gemm(gt[:nb * P], wm, cols[:nb * P], np.bool_(False), np.bool_(False), 1.0,
                 0.0)
        for b in range(nb):
            _col2im(cols[b * P:(b + 1) * P], xp, kh, kw, sh, sw, ow)
            _from_padded_hwc(xp, out, n0 + b, pt, pl)


@library_jit
def conv2d_backprop_filter(x, g, out, sh, sw, pt, pl):
    """out (O, C, kh, kw) = gradient of conv2d w.r.t. w for output cotangent g."""
    N, C = x.shape[0], x.shape[1]
    O, oh, ow = g.shape[1], g.shape[2], g.shape[3]
    kh, kw = out.shape[2], out.shape[3]
    if g.shape[0] != N or out.shape[0] != O or out.shape[1] != C:
        raise ValueError("conv2d_backprop_filter kernel: inconsistent x, g, out shapes")
    k = kh * kw * C
    if N == 0:  # no images: a zero gradient (the products below start from beta = 0)
        of = out.reshape(-1)
        for m in range(of.size):
            of[m] = 0
        return
    if kw * C < SMALL_RUN:  # few channels: channels-first columns, (c, i, j) = out's order
        of = out.reshape(O, k)
        colc = empty((k, oh * ow), out.dtype)
        for n in range(N):
            _im2col_cf(x, n, colc, kh, kw, sh, sw, pt, pl, oh, ow)
            gemm(g[n].reshape(O, oh * ow), colc, of, np.bool_(False), np.bool_(True), 1.0,
                 1.0 if n else 0.0)
        return
    acc = empty((O, k), out.dtype)  # (o, (i, j, c)): the columns' order
    xp = zeros((_padded_size(oh, kh, sh), _padded_size(ow, kw, sw), C), out.dtype)
    cols = empty((oh * ow, k), out.dtype)
    for n in range(N):
        _to_padded_hwc(x, n, xp, pt, pl)
        _im2col(xp, cols, kh, kw, sh, sw, ow)
        gemm(g[n].reshape(O, oh * ow), cols, acc, np.bool_(False), np.bool_(False), 1.0,
             1.0 if n else 0.0)
    acc4 = acc.reshape(O, kh, kw, C)
    for o in range(O):
        for c in range(C):
            for i in range(kh):
                for j in range(kw):
                    out[o, c, i, j] = acc4[o, i, j, c]


# -- pooling -----------------------------------------------------------------------
# Pooling works plane by plane on flat views with unsigned offsets (see _im2col).
@library_jit
def _window_argmax(xf, base, H, W, kh, kw, h0, w0):
    """ih * W + iw of the first maximum of the window at (h0, w0) of the H x W plane
    at xf[base:], or -1 where that maximum is padding (-inf, which happens only when
    every real pixel of the window is -inf). A NaN wins at its first occurrence,
    like np.argmax over the window padded with -inf."""
    i0, i1 = max(h0, 0), min(h0 + kh, H)
    j0, j1 = max(w0, 0), min(w0 + kw, W)
    at = i0 * W + j0
    best = xf[u64(base + at)]
    for ih in range(i0, i1):
        row = u64(base + ih * W)
        for iw in range(j0, j1):
            v = xf[row + u64(iw)]
            win = (v > best) | ((v != v) & (best == best))  # greater, or the first NaN
            best = v if win else best
            at = ih * W + iw if win else at
    if best == -np.inf:  # ties with padding: padding first in the window wins
        first_pad = kh * kw
        if i0 > h0 or j0 > w0:
            first_pad = 0
        elif j1 < w0 + kw:
            first_pad = j1 - w0
        elif i1 < h0 + kh:
            first_pad = (i1 - h0) * kw
        if first_pad < (at // W - h0) * kw + at % W - w0:
            at = -1
    return at


@library_jit
def _fast_windows(H, W, kh, kw, sh, sw, pl, h0, ow):
    """[lo, hi) of the windows of the output row at image row h0 that take the 2x2,
    stride-2 path (the usual pooling; windows inside the image); (0, 0) otherwise."""
    if kh == 2 and kw == 2 and sh == 2 and sw == 2 and h0 >= 0 and h0 + 2 <= H:
        return _valid_range(ow, W - 1, -pl, 2)
    return 0, 0


@library_jit
def _first_max_wins(v, best):
    """Whether v takes the place of the running maximum best when it comes after
    it: greater, or the first NaN (np.argmax's rule)."""
    return (v > best) | ((v != v) & (best == best))


# The 2x2 rows below index row slices with plain (signed) loop indices: LLVM then
# sees the stride-2 loads as interleaved groups and vectorizes them with shuffles.
# With unsigned flat offsets (possible wrap-around) it used gathers: 1.7x slower.
@library_jit
def _max_2x2_row(xf, a, W, n, of, o):
    """of[o + q] = the first maximum (NaN wins) of the 2x2 window at xf[a + 2q],
    xf[a + 2q + 1], xf[a + W + 2q], xf[a + W + 2q + 1], for q < n."""
    r0, r1, dst = xf[a:a + 2 * n], xf[a + W:a + W + 2 * n], of[o:o + n]
    for q in range(n):  # as a tree (top pair, bottom pair, the two): a shorter chain
        v0, v1, v2, v3 = r0[2 * q], r0[2 * q + 1], r1[2 * q], r1[2 * q + 1]
        top = v1 if _first_max_wins(v1, v0) else v0
        bottom = v3 if _first_max_wins(v3, v2) else v2
        dst[q] = bottom if _first_max_wins(bottom, top) else top


@library_jit
def _max_2x2_backprop_row(xf, a, W, n, gf, go, of):
    """The gradient of n 2x2, stride-2 windows side by side, at xf[a + 2q],
    xf[a + 2q + 1], xf[a + W + 2q], xf[a + W + 2q + 1]: of = gf[go + q] at each
    window's first maximum (NaN wins), 0 * gf[go + q] at its other three pixels,
    like the reference's ``hit * g``. Written, not added: these windows do not
    overlap each other or any other window.

    Branch-free by construction: the first maximum is found as a tree (top pair,
    bottom pair, then the two) and routed by multiplying with 0/1 floats. Rows
    this short stay scalar (LLVM vectorizes only from ~48 iterations), and any
    select feeding the stores was compiled to branches that the random argmax
    mispredicts: 5.4 -> 2.0-2.9 ms on 64x32x26x26 (Numba 0.68)."""
    r0, r1 = xf[a:a + 2 * n], xf[a + W:a + W + 2 * n]
    d0, d1, g = of[a:a + 2 * n], of[a + W:a + W + 2 * n], gf[go:go + n]
    for q in range(n):
        v0, v1, v2, v3 = r0[2 * q], r0[2 * q + 1], r1[2 * q], r1[2 * q + 1]
        top_right = _first_max_wins(v1, v0)
        bottom_right = _first_max_wins(v3, v2)
        bottom = _first_max_wins(v3 if bottom_right else v2, v1 if top_right else v0)
        ft, fb, fv = np.float32(top_right), np.float32(bottom_right), np.float32(bottom)
        gt, gb = g[q] * (1 - fv), g[q] * fv
        d0[2 * q] = gt * (1 - ft)
        d0[2 * q + 1] = gt * ft
        d1[2 * q] = gb * (1 - fb)
        d1[2 * q + 1] = gb * fb


@library_jit
def _plane_argmax(xf, base, H, W, kh, kw, sh, sw, pt, pl, oh, ow, idx):
    """idx[r * ow + q] = _window_argmax of each window (r, q) of one plane.

    2x2 windows with stride 2 inside the image (the common case) take an unrolled
    path with the stride a literal: with a run-time stride LLVM vectorizes the q
    loop with gathers, which are slow on this hardware (8x slower here)."""
    for r in range(oh):
        h0 = r * sh - pt
        lo, hi = _fast_windows(H, W, kh, kw, sh, sw, pl, h0, ow)
        out_row = u64(r * ow)
        for q in range(lo):
            idx[out_row + u64(q)] = _window_argmax(xf, base, H, W, kh, kw, h0, q * sw - pl)
        for q in range(lo, hi):
            start = h0 * W + 2 * q - pl
            at, best = start, xf[u64(base + start)]
            for d in (1, W, W + 1):
                v = xf[u64(base + start + d)]
                win = (v > best) | ((v != v) & (best == best))
                best = v if win else best
                at = start + d if win else at
            idx[out_row + u64(q)] = at
        for q in range(hi, ow):
            idx[out_row + u64(q)] = _window_argmax(xf, base, H, W, kh, kw, h0, q * sw - pl)


@library_jit
def max_pool2d(x, out, kh, kw, sh, sw, pt, pl):
    """out (N, C, OH, OW) = max over each kh x kw window of x (padding never wins)."""
    N, C, H, W = x.shape[0], x.shape[1], x.shape[2], x.shape[3]
    oh, ow = out.shape[2], out.shape[3]
    if out.shape[0] != N or out.shape[1] != C:
        raise ValueError("max_pool2d kernel: inconsistent x, out shapes")
    xf, of = x.reshape(-1), out.reshape(-1)
    for plane in range(N * C):
        base, obase = plane * H * W, plane * oh * ow
        for r in range(oh):
            h0 = r * sh - pt
            lo, hi = _fast_windows(H, W, kh, kw, sh, sw, pl, h0, ow)
            o = obase + r * ow
            if hi > lo:
                _max_2x2_row(xf, base + h0 * W + 2 * lo - pl, W, hi - lo, of, o + lo)
            for q in range(ow):
                if lo <= q < hi:
                    continue
                at = _window_argmax(xf, base, H, W, kh, kw, h0, q * sw - pl)
                of[o + q] = xf[base + at] if at >= 0 else -np.inf


@library_jit
def _zero_outside(of, base, H, W, i0, i1, j0, j1):
    """Zero the H x W plane at of[base:] but for rows [i0, i1) x columns [j0, j1)."""
    for i in range(H):
        row = u64(base + i * W)
        if i0 <= i < i1:
            for j in range(u64(j0)):
                of[row + j] = 0
            for j in range(u64(j1), u64(W)):
                of[row + j] = 0
        else:
            for j in range(u64(W)):
                of[row + j] = 0


@library_jit
def max_pool2d_backprop(x, g, out, kh, kw, sh, sw, pt, pl):
    """out (N, C, H, W): each window's g added at the argmax of x in that window."""
    N, C, H, W = x.shape[0], x.shape[1], x.shape[2], x.shape[3]
    oh, ow = g.shape[2], g.shape[3]
    if (g.shape[0] != N or g.shape[1] != C or out.shape[0] != N or out.shape[1] != C
            or out.shape[2] != H or out.shape[3] != W):
        raise ValueError("max_pool2d_backprop kernel: inconsistent x, g, out shapes")
    xf, gf, of = x.reshape(-1), g.reshape(-1), out.reshape(-1)
    # the pixels the 2x2 / stride-2 path writes: rows [i0, i1), columns [j0, j1)
    i0, i1, j0, j1 = 0, 0, 0, 0
    if kh == 2 and kw == 2 and sh == 2 and sw == 2:
        r0, r1 = _valid_range(oh, H - 1, -pt, 2)
        lo, hi = _valid_range(ow, W - 1, -pl, 2)
        if r1 > r0 and hi > lo:
            i0, i1, j0, j1 = 2 * r0 - pt, 2 * r1 - pt, 2 * lo - pl, 2 * hi - pl
    for plane in range(N * C):
        base, gbase = plane * H * W, u64(plane * oh * ow)
        _zero_outside(of, base, H, W, i0, i1, j0, j1)  # plane by plane: in cache
        for r in range(oh):
            h0 = r * sh - pt
            lo, hi = _fast_windows(H, W, kh, kw, sh, sw, pl, h0, ow)
            grow = gbase + u64(r * ow)
            if hi > lo:  # 2x2, stride 2, inside the image: computed row by row
                _max_2x2_backprop_row(xf, base + h0 * W + 2 * lo - pl, W, hi - lo, gf,
                                      grow + u64(lo), of)
            for q in range(ow):
                if lo <= q < hi:
                    continue
                at = _window_argmax(xf, base, H, W, kh, kw, h0, q * sw - pl)
                if at >= 0:
                    of[u64(base + at)] += gf[grow + u64(q)]


@library_jit
def max_pool2d_gather(x, v, out, kh, kw, sh, sw, pt, pl):
    """out (N, C, OH, OW): v read at the argmax of x in each window (0 if padding)."""
    N, C, H, W = x.shape[0], x.shape[1], x.shape[2], x.shape[3]
    oh, ow = out.shape[2], out.shape[3]
    if (v.shape[0] != N or v.shape[1] != C or v.shape[2] != H or v.shape[3] != W
            or out.shape[0] != N or out.shape[1] != C):
        raise ValueError("max_pool2d_gather kernel: inconsistent x, v, out shapes")
    xf, vf, of = x.reshape(-1), v.reshape(-1), out.reshape(-1)
    idx = empty(oh * ow, np.int64)
    for plane in range(N * C):
        base, obase = plane * H * W, u64(plane * oh * ow)
        _plane_argmax(xf, base, H, W, kh, kw, sh, sw, pt, pl, oh, ow, idx)
        for p in range(oh * ow):
            at = idx[p]
            of[obase + u64(p)] = vf[u64(base + at)] if at >= 0 else 0


@library_jit
def avg_pool2d(x, out, kh, kw, sh, sw, pt, pl):
    """out (N, C, OH, OW) = mean of each window's real (non-padding) pixels."""
    N, C, H, W = x.shape[0], x.shape[1], x.shape[2], x.shape[3]
    oh, ow = out.shape[2], out.shape[3]
    if out.shape[0] != N or out.shape[1] != C:
        raise ValueError("avg_pool2d kernel: inconsistent x, out shapes")
    xf, of = x.reshape(-1), out.reshape(-1)
    for plane in range(N * C):
        base, obase = plane * H * W, plane * oh * ow
        for r in range(oh):
            h0 = r * sh - pt
            i0, i1 = max(h0, 0), min(h0 + kh, H)
            lo, hi = _fast_windows(H, W, kh, kw, sh, sw, pl, h0, ow)
            for q in range(lo, hi):  # 2x2, stride 2, inside: unrolled
                a = u64(base + h0 * W + 2 * q - pl)
                s = 0.0 + xf[a] + xf[a + 1] + xf[a + u64(W)] + xf[a + u64(W + 1)]
                of[u64(obase + r * ow + q)] = s / 4
            for q in range(ow):
                if lo <= q < hi:
                    continue
                j0, j1 = max(q * sw - pl, 0), min(q * sw - pl + kw, W)
                s = 0.0  # float64 accumulator, rounded once on the store
                for ih in range(i0, i1):
                    row = u64(base + ih * W)
                    for iw in range(j0, j1):
                        s += xf[row + u64(iw)]
                of[u64(obase + r * ow + q)] = s / ((i1 - i0) * (j1 - j0))


@library_jit
def avg_pool2d_backprop(g, out, kh, kw, sh, sw, pt, pl):
    """out (N, C, H, W): each window's g / count spread over its real pixels."""
    N, C, oh, ow = g.shape[0], g.shape[1], g.shape[2], g.shape[3]
    H, W = out.shape[2], out.shape[3]
    if out.shape[0] != N or out.shape[1] != C:
        raise ValueError("avg_pool2d_backprop kernel: inconsistent g, out shapes")
    gf, of = g.reshape(-1), out.reshape(-1)
    for plane in range(N * C):
        base, gbase = plane * H * W, plane * oh * ow
        for m in range(u64(base), u64(base + H * W)):  # zeroed plane by plane: in cache
            of[m] = 0
        for r in range(oh):
            h0 = r * sh - pt
            i0, i1 = max(h0, 0), min(h0 + kh, H)
            lo, hi = _fast_windows(H, W, kh, kw, sh, sw, pl, h0, ow)
            for q in range(lo, hi):  # 2x2, stride 2, inside: unrolled
                a = u64(base + h0 * W + 2 * q - pl)
                share = gf[u64(gbase + r * ow + q)] / 4
                of[a] += share
                of[a + 1] += share
                of[a + u64(W)] += share
                of[a + u64(W + 1)] += share
            for q in range(ow):
                if lo <= q < hi:
                    continue
                j0, j1 = max(q * sw - pl, 0), min(q * sw - pl + kw, W)
                share = gf[u64(gbase + r * ow + q)] / ((i1 - i0) * (j1 - j0))
                for ih in range(i0, i1):
                    row = u64(base + ih * W)
                    for iw in range(j0, j1):
                        of[row + u64(iw)] += share
