"""Op-table entries for conv2d, max_pool2d and avg_pool2d (NCHW, OIHW).

The references loop over output positions and read each window straight from
the unpadded input, so padding is handled independently of graphdl.
"""

import numpy as np

import graphdl as gd

from . import OpInfo, distinct


def _np_pads(n, k, s, padding):
    """(before, after) for one axis; padding: 'valid', 'same' or (before, after)."""
    if padding == "valid":
        return 0, 0
    if padding == "same":  # TensorFlow: output ceil(n / s), extra pixel after
        out = -(-n // s)
        total = max((out - 1) * s + k - n, 0)
        return total // 2, total - total // 2
    return padding


def _np_windows(x, k, s, padding):
    """Yield (a, b, window) per output position; window: x rows/cols clipped to the image."""
    (h, w), (kh, kw), (sh, sw) = x.shape[2:], k, s
    (t, bo), (le, r) = (_np_pads(h, kh, sh, padding[0]), _np_pads(w, kw, sw, padding[1]))
    for a in range((h + t + bo - kh) // sh + 1):
        for b in range((w + le + r - kw) // sw + 1):
            r0, c0 = a * sh - t, b * sw - le
            yield a, b, (r0, c0), x[:, :, max(r0, 0):r0 + kh, max(c0, 0):c0 + kw]


def _np_out(x, k, s, padding, channels):
    rows = list(_np_windows(x, k, s, padding))
    oh, ow = rows[-1][0] + 1, rows[-1][1] + 1
    return rows, np.zeros((x.shape[0], channels, oh, ow), x.dtype)


def np_conv2d(x, w, s, padding):
    rows, out = _np_out(x, w.shape[2:], s, padding, w.shape[0])
    for a, b, (r0, c0), win in rows:
        # window rows/cols that fell into the padding are dropped from w too
        kw_ = w[:, :, max(-r0, 0):max(-r0, 0) + win.shape[2],
                max(-c0, 0):max(-c0, 0) + win.shape[3]]
        out[:, :, a, b] = np.einsum("ncij,ocij->no", win, kw_)
    return out


def np_pool(x, k, s, padding, reduce):
    rows, out = _np_out(x, k, s, padding, x.shape[1])
    for a, b, _, win in rows:
        out[:, :, a, b] = reduce(win, axis=(2, 3))
    return out


_V, _S = ("valid", "valid"), ("same", "same")


def _conv_samples(k, c=3, o=4):
    def samples(rng):
        return [(rng.standard_normal((2, c, 7, 5)), rng.standard_normal((o, c, *k))),
                (rng.standard_normal((1, c, 6, 9)), rng.standard_normal((o, c, *k)))]
    return samples


# (name suffix, gd stride, gd padding, reference stride, reference padding, kernel)
_CONV_CASES = [
    ("valid", 1, "valid", (1, 1), _V, (3, 2)),
    ("same", 1, "same", (1, 1), _S, (2, 3)),                         # even kernel: lopsided
    ("same,stride=2", 2, "same", (2, 2), _S, (3, 3)),
    ("valid,stride=(2,1)", (2, 1), "valid", (2, 1), _V, (3, 2)),
    ("pad=1,stride=2", 2, 1, (2, 2), ((1, 1), (1, 1)), (3, 3)),
    ("pad=(2,0)", 1, (2, 0), (1, 1), ((2, 2), (0, 0)), (2, 2)),
    ("pad=((0,1),(2,1))", (1, 2), ((0, 1), (2, 1)), (1, 2), ((0, 1), (2, 1)), (3, 3)),
]

OPS = []
for _name, _s, _p, _rs, _rp, _k in _CONV_CASES:
    OPS.append(OpInfo(
        f"conv2d[{_name}]", lambda x, w, s=_s, p=_p: gd.conv2d(x, w, s, p),
        lambda x, w, s=_rs, p=_rp: np_conv2d(x, w, s, p), _conv_samples(_k)))

OPS += [
    # squaring makes the output cotangent depend on x and w, so the second-order
    # check also runs the gradient ops' own rules for their incoming gradient
    OpInfo("conv2d_squared[same,stride=2]", lambda x, w: gd.conv2d(x, w, 2, "same") ** 2,
           lambda x, w: np_conv2d(x, w, (2, 2), _S) ** 2, _conv_samples((3, 3), 2, 2)),
    OpInfo("conv2d_backprop_input[same,stride=2]",
           lambda g, w: gd.conv2d_backprop_input(g, w, gd.constant(np.zeros((1, 2, 5, 4))),
                                                 2, "same"),
           # <bi(g, w), v> = <g, conv(v, w)>: the NumPy adjoint via explicit basis images
           lambda g, w: np.stack([np_conv2d(e.reshape(1, 2, 5, 4), w, (2, 2), _S).ravel()
                                  @ g.ravel() for e in np.eye(40)]).reshape(1, 2, 5, 4),
           lambda r: [(r.standard_normal((1, 3, 3, 2)), r.standard_normal((3, 2, 2, 3)))]),
]


def _pool_samples(rng):
    return [(distinct(rng, (2, 3, 7, 5)),), (distinct(rng, (1, 2, 6, 9)),)]


# (name suffix, size, stride, padding, reference size, stride, padding)
_POOL_CASES = [
    ("2", 2, None, "valid", (2, 2), (2, 2), _V),
    ("3,stride=2,same", 3, 2, "same", (3, 3), (2, 2), _S),
    ("(3,2),stride=1,same", (3, 2), 1, "same", (3, 2), (1, 1), _S),
    ("(3,2),stride=(2,1),pad=1", (3, 2), (2, 1), 1, (3, 2), (2, 1), ((1, 1), (1, 1))),
    ("2,stride=1,pad=((1,0),(0,1))", 2, 1, ((1, 0), (0, 1)), (2, 2), (1, 1),
     ((1, 0), (0, 1))),
]

for _name, _k, _s, _p, _rk, _rs, _rp in _POOL_CASES:
    OPS += [
        OpInfo(f"max_pool2d[{_name}]", lambda x, k=_k, s=_s, p=_p: gd.max_pool2d(x, k, s, p),
               lambda x, k=_rk, s=_rs, p=_rp: np_pool(x, k, s, p, np.max), _pool_samples),
        OpInfo(f"avg_pool2d[{_name}]", lambda x, k=_k, s=_s, p=_p: gd.avg_pool2d(x, k, s, p),
               lambda x, k=_rk, s=_rs, p=_rp: np_pool(x, k, s, p, np.mean), _pool_samples),
    ]

OPS += [
    # pooling is piecewise linear; squaring exercises the gradient ops' own gradients
    OpInfo("max_pool2d_squared[3,stride=2,same]",
           lambda x: gd.max_pool2d(x, 3, 2, "same") ** 2,
           lambda x: np_pool(x, (3, 3), (2, 2), _S, np.max) ** 2, _pool_samples),
    OpInfo("avg_pool2d_squared[3,stride=2,same]",
           lambda x: gd.avg_pool2d(x, 3, 2, "same") ** 2,
           lambda x: np_pool(x, (3, 3), (2, 2), _S, np.mean) ** 2, _pool_samples),
]


def np_conv2d_backprop_filter(x, g, w_shape, s, padding):
    """<bf(x, g), v> = <g, conv(x, v)>: the NumPy adjoint through explicit basis filters."""
    basis = np.eye(int(np.prod(w_shape)))
    return np.array([np_conv2d(x, e.reshape(w_shape), s, padding).ravel() @ g.ravel()
                     for e in basis]).reshape(w_shape)


def _filter_samples(x_shapes, w_shape, s, padding):
    """(x, g) pairs with g shaped like conv2d's output for x and a w of ``w_shape``."""
    def samples(rng):
        out = []
        for shape in x_shapes:
            x = rng.standard_normal(shape)
            g_shape = np_conv2d(x, np.zeros(w_shape), s, padding).shape
            out.append((x, rng.standard_normal(g_shape)))
        return out
    return samples


# (name suffix, gd stride, gd padding, reference stride, reference padding, w shape)
_FILTER_CASES = [
    ("valid", 1, "valid", (1, 1), _V, (4, 3, 3, 2)),
    ("same,stride=2", 2, "same", (2, 2), _S, (3, 2, 2, 3)),      # even kernel, lopsided pad
    ("pad=(1,0),stride=(1,2)", (1, 2), (1, 0), (1, 2), ((1, 1), (0, 0)), (2, 3, 3, 3)),
]

# bilinear in (x, g): the second-order check runs its rules (conv2d and
# conv2d_backprop_input) for an incoming gradient that depends on both inputs
for _name, _s, _p, _rs, _rp, _w in _FILTER_CASES:
    OPS.append(OpInfo(
        f"conv2d_backprop_filter[{_name}]",
        lambda x, g, s=_s, p=_p, w=_w: gd.conv2d_backprop_filter(
            x, g, gd.constant(np.zeros(w)), s, p),
        lambda x, g, s=_rs, p=_rp, w=_w: np_conv2d_backprop_filter(x, g, w, s, p),
        _filter_samples([(2, _w[1], 7, 5), (1, _w[1], 6, 9)], _w, _rs, _rp)))


def _nhwc(rng_samples):
    """NCHW samples moved to NHWC (the first input; others, such as w, unchanged)."""
    return lambda rng: [(a.transpose(0, 2, 3, 1), *rest) for a, *rest in rng_samples(rng)]


def _to_nhwc(a):
    return a.transpose(0, 2, 3, 1)


def _from_nhwc(a):
    return a.transpose(0, 3, 1, 2)


# data_format="NHWC" (Keras' layout): the reference transposes around the NCHW one
OPS += [
    OpInfo("conv2d[NHWC,same,stride=2]",
           lambda x, w: gd.conv2d(x, w, 2, "same", data_format="NHWC"),
           lambda x, w: _to_nhwc(np_conv2d(_from_nhwc(x), w, (2, 2), _S)),
           _nhwc(_conv_samples((3, 3)))),
    OpInfo("max_pool2d[NHWC,2]", lambda x: gd.max_pool2d(x, 2, data_format="NHWC"),
           lambda x: _to_nhwc(np_pool(_from_nhwc(x), (2, 2), (2, 2), _V, np.max)),
           _nhwc(_pool_samples)),
    OpInfo("avg_pool2d[NHWC,3,stride=2,same]",
           lambda x: gd.avg_pool2d(x, 3, 2, "same", data_format="NHWC"),
           lambda x: _to_nhwc(np_pool(_from_nhwc(x), (3, 3), (2, 2), _S, np.mean)),
           _nhwc(_pool_samples)),
]
