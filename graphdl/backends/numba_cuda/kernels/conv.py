"""Convolution by im2col + the tiled matmul, and max/avg pooling with gradients.

Layouts: x (N, C, H, W), w (O, C, KH, KW). ``geom`` is one int tuple
``(N, C, H, W, KH, KW, OH, OW, SH, SW, PT, PL)`` (PT/PL: padding before the
rows/columns), so kernels take few arguments.

* ``im2col``: cols[(c, i, j), (n, oh, ow)] = padded x at the window position;
  conv2d is then W(O, CKK) @ cols(CKK, NP), the filter gradient
  g(O, NP) @ cols(CKK, NP).T and the input gradient's columns W.T @ g,
  folded back by ``col2im``, a *gather*: each input pixel sums the column
  entries that read it, so there are no atomics and results are deterministic.
* Pooling: one thread per output pixel (forward, gather) or per input pixel
  (gradients, again gathers over the windows that contain the pixel; max-pool
  ties go to the first maximum, padding never wins, as in the reference).

Launch: all 1-D grid-stride, ``THREADS`` per block. Dtype-generic.
"""

from numba import cuda


@cuda.jit(cache=True)
def im2col(cols, x, geom, total):
    n_, c_, h_, w_, kh_, kw_, oh_, ow_, sh, sw, pt, pl = geom
    np_ = n_ * oh_ * ow_
    start = cuda.grid(1)
    for e in range(start, total, cuda.gridsize(1)):
        row = e // np_
        col = e - row * np_
        j = row % kw_
        i = (row // kw_) % kh_
        c = row // (kw_ * kh_)
        ow = col % ow_
        oh = (col // ow_) % oh_
        n = col // (ow_ * oh_)
        h = oh * sh - pt + i
        w = ow * sw - pl + j
        if 0 <= h < h_ and 0 <= w < w_:
            cols[e] = x[((n * c_ + c) * h_ + h) * w_ + w]
        else:
            cols[e] = 0


@cuda.jit(cache=True)
def col2im(dx, cols, geom, total):
    n_, c_, h_, w_, kh_, kw_, oh_, ow_, sh, sw, pt, pl = geom
    np_ = n_ * oh_ * ow_
    start = cuda.grid(1)
    for e in range(start, total, cuda.gridsize(1)):
        w = e % w_
        h = (e // w_) % h_
        c = (e // (w_ * h_)) % c_
        n = e // (w_ * h_ * c_)
        acc = cols[0] * 0
        for i in range(kh_):
            hh = h + pt - i
            if hh < 0 or hh % sh != 0 or hh // sh >= oh_:
                continue
            oh = hh // sh
            for j in range(kw_):
                ww = w + pl - j
                if ww < 0 or ww % sw != 0 or ww // sw >= ow_:
                    continue
                ow = ww // sw
                acc += cols[((c * kh_ + i) * kw_ + j) * np_ + (n * oh_ + oh) * ow_ + ow]
        dx[e] = acc


@cuda.jit(device=True, inline="always")
def _window_argmax(x, base, oh, ow, geom):
    """Flat offset (into the image at ``base``) of the first maximum of one window."""
    n_, c_, h_, w_, kh_, kw_, oh_, ow_, sh, sw, pt, pl = geom
    best = -1
    for i in range(kh_):
        h = oh * sh - pt + i
        if h < 0 or h >= h_:
            continue
        for j in range(kw_):
            w = ow * sw - pl + j
            if w < 0 or w >= w_:
                continue
            at = h * w_ + w
            if best < 0 or x[base + at] > x[base + best]:
                best = at
    return best


@cuda.jit(cache=True)
def max_pool(out, x, geom, total):
    n_, c_, h_, w_, kh_, kw_, oh_, ow_, sh, sw, pt, pl = geom
    for e in range(cuda.grid(1), total, cuda.gridsize(1)):
        ow = e % ow_
        oh = (e // ow_) % oh_
        base = (e // (ow_ * oh_)) * h_ * w_
        out[e] = x[base + _window_argmax(x, base, oh, ow, geom)]


@cuda.jit(cache=True)
def max_pool_gather(out, x, v, geom, total):
    """out[window] = v at the argmax of x in that window (max_pool2d_gather)."""
    n_, c_, h_, w_, kh_, kw_, oh_, ow_, sh, sw, pt, pl = geom
    for e in range(cuda.grid(1), total, cuda.gridsize(1)):
        ow = e % ow_
        oh = (e // ow_) % oh_
        base = (e // (ow_ * oh_)) * h_ * w_
        out[e] = v[base + _window_argmax(x, base, oh, ow, geom)]


@cuda.jit(cache=True)
def max_pool_backprop(dx, x, g, geom, total):
    """dx[pixel] = sum of g over the windows whose argmax is this pixel."""
    n_, c_, h_, w_, kh_, kw_, oh_, ow_, sh, sw, pt, pl = geom
    for e in range(cuda.grid(1), total, cuda.gridsize(1)):
        w = e % w_
        h = (e // w_) % h_
        plane = e // (w_ * h_)
        base = plane * h_ * w_
        gbase = plane * oh_ * ow_
        acc = g[0] * 0
        for i in range(kh_):
            hh = h + pt - i
            if hh < 0 or hh % sh != 0 or hh // sh >= oh_:
                continue
            for j in range(kw_):
                ww = w + pl - j
                if ww < 0 or ww % sw != 0 or ww // sw >= ow_:
                    continue
                oh = hh // sh
                ow = ww // sw
                if _window_argmax(x, base, oh, ow, geom) == h * w_ + w:
                    acc += g[gbase + oh * ow_ + ow]
        dx[e] = acc


@cuda.jit(device=True, inline="always")
def _window_count(oh, ow, geom):
    n_, c_, h_, w_, kh_, kw_, oh_, ow_, sh, sw, pt, pl = geom
    h0 = oh * sh - pt
    w0 = ow * sw - pl
    rows = min(h0 + kh_, h_) - max(h0, 0)
    cols = min(w0 + kw_, w_) - max(w0, 0)
    return rows * cols


@cuda.jit(cache=True)
def avg_pool(out, x, geom, total):
    """Mean over the real (non-padding) pixels of each window."""
    n_, c_, h_, w_, kh_, kw_, oh_, ow_, sh, sw, pt, pl = geom
    for e in range(cuda.grid(1), total, cuda.gridsize(1)):
        ow = e % ow_
        oh = (e // ow_) % oh_
        base = (e // (ow_ * oh_)) * h_ * w_
        acc = x[base] * 0
        for i in range(kh_):
            h = oh * sh - pt + i
            if h < 0 or h >= h_:
                continue
            for j in range(kw_):
                w = ow * sw - pl + j
                if 0 <= w < w_:
                    acc += x[base + h * w_ + w]
        out[e] = acc / _window_count(oh, ow, geom)


@cuda.jit(cache=True)
def avg_pool_backprop(dx, g, geom, total):
    """dx[pixel] = sum over the windows containing it of g / (that window's count)."""
    n_, c_, h_, w_, kh_, kw_, oh_, ow_, sh, sw, pt, pl = geom
    for e in range(cuda.grid(1), total, cuda.gridsize(1)):
        w = e % w_
        h = (e // w_) % h_
        gbase = (e // (w_ * h_)) * oh_ * ow_
        acc = g[0] * 0
        for i in range(kh_):
            hh = h + pt - i
            if hh < 0 or hh % sh != 0 or hh // sh >= oh_:
                continue
            for j in range(kw_):
                ww = w + pl - j
                if ww < 0 or ww % sw != 0 or ww // sw >= ow_:
                    continue
                oh = hh // sh
                ow = ww // sw
                acc += g[gbase + oh * ow_ + ow] / _window_count(oh, ow, geom)
        dx[e] = acc
