"""Convolution and pooling over NCHW images (conv weights are OIHW).

Every op here is written with two array helpers: ``_windows`` (a strided view
giving each output pixel the window it sees, im2col without the copy) and its
adjoint ``_fold`` (sum window values back onto the pixels they came from).
Gradients are ops too, and because conv is bilinear and pooling is linear in
the routed values, the gradient ops' own gradients are the forward ops again —
so second derivatives work.

Padding follows TensorFlow: ``"valid"`` (none), ``"same"`` (output size
ceil(n / stride), the odd extra pixel padded after), or explicit amounts: an
int, a pair (rows, cols), or a pair of pairs ((top, bottom), (left, right)).
"""

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from .. import dtypes as _dt
from ..errors import ShapeError
from ..shapes import fmt
from .base import OpDef, apply, as_tensor, register, require_float, shape_error

__all__ = [
    "avg_pool2d",
    "conv2d",
    "conv2d_backprop_filter",
    "conv2d_backprop_input",
    "max_pool2d",
]


# -- geometry -----------------------------------------------------------------------
# Attribute checks take the op's input tensors so that errors name them with their
# shapes, like every other build-time error (ShapeError: these are geometry).
def _int_pair(value, what, op, minimum, tensors):
    if isinstance(value, (int, np.integer)) and not isinstance(value, bool):
        value = (value, value)
    if not (isinstance(value, (tuple, list)) and len(value) == 2 and all(
            isinstance(v, (int, np.integer)) and not isinstance(v, bool) for v in value)):
        raise shape_error(op, f"{what} must be an int or a pair of ints, got {value!r}",
                          tensors)
    if any(v < minimum for v in value):
        raise shape_error(op, f"{what} must be at least {minimum}, got {value!r}", tensors)
    return tuple(int(v) for v in value)


def _padding(padding, op, tensors):
    """'valid' | 'same' | ((top, bottom), (left, right))."""
    if isinstance(padding, str):
        if padding.lower() in ("valid", "same"):
            return padding.lower()
        raise shape_error(op, "padding must be 'valid', 'same', an int or a pair, "
                          f"got {padding!r}", tensors)
    if isinstance(padding, (tuple, list)) and len(padding) == 2 and all(
            isinstance(p, (tuple, list)) for p in padding):
        return tuple(_int_pair(p, "padding", op, 0, tensors) for p in padding)
    return tuple((p, p) for p in _int_pair(padding, "padding", op, 0, tensors))


def _pads(n, k, s, padding, axis):
    """(before, after) padding of one spatial axis of size n."""
    if padding == "valid":
        return (0, 0)
    if padding == "same":
        total = max((-(-n // s) - 1) * s + k - n, 0)  # output ceil(n / s)
        return (total // 2, total - total // 2)
    return padding[axis]


def _geometry(hw, kernel, stride, padding):
    """Pads per spatial axis and the output size (oh, ow); None where not known."""
    pads, out = [], []
    for axis in (0, 1):
        n, k, s = hw[axis], kernel[axis], stride[axis]
        if n is None or k is None:
            pads.append(None)
            out.append(None)
            continue
        p = _pads(n, k, s, padding, axis)
        pads.append(p)
        out.append((n + p[0] + p[1] - k) // s + 1)
    return pads, out


def _checked_geometry(op, x, kernel, stride, padding, inputs, names=None):
    """Static output size; a ShapeError naming ``inputs`` when the window does not fit."""
    if x.ndim != 4:
        raise shape_error(op, f"expected an NCHW input of rank 4, got rank {x.ndim}",
                          inputs, names)
    pads, out = _geometry(x.shape[2:], kernel, stride, padding)
    if any(o is not None and o < 1 for o in out):
        raise shape_error(op, f"the {_hw(kernel)} window is larger than the padded "
                          f"{_hw(x.shape[2:])} input (pads {pads})", inputs, names)
    return out


def _hw(pair):
    return "x".join("?" if d is None else str(d) for d in pair)


def _run_time_geometry(op, x, kernel, stride, padding):
    """``_geometry`` on concrete arrays: catches the sizes that were unknown at build time."""
    pads, out = _geometry(x.shape[2:], kernel, stride, padding)
    if min(out) < 1:
        raise ShapeError(f"{op}: the {_hw(kernel)} window is larger than the padded "
                         f"{_hw(x.shape[2:])} input at run time (pads {pads})")
    return pads, out


def _pad(x, pads, value=0.0):
    return np.pad(x, ((0, 0), (0, 0), *pads), constant_values=value)


def _windows(xp, kernel, stride, out):
    """(N, C, OH, OW, kh, kw) view of a padded input: the window of each output pixel."""
    w = sliding_window_view(xp, tuple(kernel), axis=(2, 3))
    return w[:, :, ::stride[0], ::stride[1]][:, :, :out[0], :out[1]]


def _fold(cols, hw, stride, pads):
    """Adjoint of ``_windows`` (then crop the padding): cols (N, C, OH, OW, kh, kw)
    summed onto an (N, C, H, W) image. Loops over kernel offsets, not pixels."""
    n, c, oh, ow, kh, kw = cols.shape
    (t, b), (le, r) = pads
    sh, sw = stride
    img = np.zeros((n, c, hw[0] + t + b, hw[1] + le + r), cols.dtype)
    for i in range(kh):
        for j in range(kw):
            img[:, :, i:i + sh * (oh - 1) + 1:sh, j:j + sw * (ow - 1) + 1:sw] += cols[..., i, j]
    return img[:, :, t:t + hw[0], le:le + hw[1]]


# -- convolution -------------------------------------------------------------------
def _conv_attrs(stride, padding, op, tensors):
    return {"stride": _int_pair(stride, "stride", op, 1, tensors),
            "padding": _padding(padding, op, tensors)}


def _conv_shape(op, x, w, g=None, stride=None, padding=None, inputs=(), names=()):
    """conv2d's shape rule, shared with its gradient ops: x NCHW and w OIHW with the
    same C, the window fitting; the backprop ops also pass the output cotangent ``g``,
    which must have conv2d's output shape. Errors name ``inputs`` (in the op's order)."""
    for t, what in ((x, "x must be NCHW"), (w, "w must be OIHW"), (g, "g must be NOHW")):
        if t is not None and t.ndim != 4:
            raise shape_error(op, f"{what} of rank 4, got rank {t.ndim}", inputs, names)
    out = _checked_geometry(op, x, w.shape[2:], stride, padding, inputs, names)
    if None not in (x.shape[1], w.shape[1]) and x.shape[1] != w.shape[1]:
        raise shape_error(op, f"x has {x.shape[1]} input channels but w expects "
                          f"{w.shape[1]}", inputs, names)
    shape = (x.shape[0], w.shape[0], *out)
    if g is not None and any(a is not None and b is not None and a != b
                             for a, b in zip(g.shape, shape)):
        raise shape_error(op, f"g must have the conv2d output shape {fmt(shape)}",
                          inputs, names)
    return shape


class Conv2D(OpDef):
    """Cross-correlation of NCHW ``x`` with OIHW ``w``."""

    name = "conv2d"

    def infer(self, x, w, stride, padding):
        require_float(self.name, x, w)
        shape = _conv_shape(self.name, x, w, None, stride, padding, [x, w], ["x", "w"])
        return [(shape, _dt.result_dtype(x.dtype, w.dtype))]

    def forward(self, x, w, stride, padding):
        if x.shape[1] != w.shape[1]:  # only possible when C was unknown at build time
            raise ShapeError(f"conv2d: x has {x.shape[1]} input channels at run time but w "
                             f"expects {w.shape[1]}")
        pads, out = _run_time_geometry(self.name, x, w.shape[2:], stride, padding)
        cols = _windows(_pad(x, pads), w.shape[2:], stride, out)
        return np.einsum("nchwij,ocij->nohw", cols, w, optimize=True)

    def vjp(self, node, g):
        x, w = node.inputs
        return [lambda: apply(CONV2D_BACKPROP_INPUT, [g, w, x], **node.attrs),
                lambda: apply(CONV2D_BACKPROP_FILTER, [x, g, w], **node.attrs)]


CONV2D = register(Conv2D())


class Conv2DBackpropInput(OpDef):
    """Gradient of conv2d w.r.t. its input: (g, w, x) -> shape of x (x gives the shape)."""

    name = "conv2d_backprop_input"
    shape_only_inputs = (2,)

    def infer(self, g, w, x, stride, padding):
        require_float(self.name, g, w)  # x only lends its shape: any dtype
        _conv_shape(self.name, x, w, g, stride, padding, [g, w, x], ["g", "w", "x"])
        return [(x.shape, _dt.result_dtype(g.dtype, w.dtype))]

    def forward(self, g, w, x, stride, padding):
        pads, _ = _geometry(x.shape[2:], w.shape[2:], stride, padding)
        cols = np.einsum("nohw,ocij->nchwij", g, w, optimize=True)
        return _fold(cols, x.shape[2:], stride, pads)

    def vjp(self, node, gg):
        # linear in g (adjoint of conv2d(., w)) and in w: the rules are conv ops again
        g, w, x = node.inputs
        return [lambda: apply(CONV2D, [gg, w], **node.attrs),
                lambda: apply(CONV2D_BACKPROP_FILTER, [gg, g, w], **node.attrs), None]


CONV2D_BACKPROP_INPUT = register(Conv2DBackpropInput())


class Conv2DBackpropFilter(OpDef):
    """Gradient of conv2d w.r.t. its weights: (x, g, w) -> shape of w (w gives the shape)."""

    name = "conv2d_backprop_filter"
    shape_only_inputs = (2,)

    def infer(self, x, g, w, stride, padding):
        require_float(self.name, x, g)  # w only lends its shape: any dtype
        _conv_shape(self.name, x, w, g, stride, padding, [x, g, w], ["x", "g", "w"])
        return [(w.shape, _dt.result_dtype(x.dtype, g.dtype))]

    def forward(self, x, g, w, stride, padding):
        pads, out = _geometry(x.shape[2:], w.shape[2:], stride, padding)
        cols = _windows(_pad(x, pads), w.shape[2:], stride, out)
        return np.einsum("nchwij,nohw->ocij", cols, g, optimize=True)

    def vjp(self, node, gw):
        x, g, w = node.inputs
        return [lambda: apply(CONV2D_BACKPROP_INPUT, [g, gw, x], **node.attrs),
                lambda: apply(CONV2D, [x, gw], **node.attrs), None]


CONV2D_BACKPROP_FILTER = register(Conv2DBackpropFilter())


def _layout(data_format, op, tensors):
    if data_format not in ("NCHW", "NHWC"):
        raise shape_error(op, f"data_format must be 'NCHW' or 'NHWC', got {data_format!r}",
                          tensors)
    return data_format


def _in_nchw(x, data_format):
    """NHWC input seen as NCHW (a transpose; the conv/pool ops work on NCHW)."""
    from .linalg import transpose  # noqa: PLC0415
    return x if data_format == "NCHW" else transpose(x, (0, 3, 1, 2))


def _out_layout(y, data_format, name):
    from .linalg import transpose  # noqa: PLC0415
    return y if data_format == "NCHW" else transpose(y, (0, 2, 3, 1), name=name)


def conv2d(x, w, stride=1, padding="valid", data_format="NCHW", name=None):
    """2-D cross-correlation (what deep-learning frameworks call convolution).

    ``x``: (N, C, H, W); ``w``: (O, C, kh, kw). ``stride``: int or (sh, sw).
    ``padding``: "valid", "same" (TensorFlow rule, also for stride > 1), an int,
    a pair, or ((top, bottom), (left, right)). Shape: (N, O, OH, OW) with
    OH = (H + pad_top + pad_bottom - kh) // sh + 1 ("same": ceil(H / sh)).
    ``data_format="NHWC"``: x is (N, H, W, C) and so is the result (transposes
    around the NCHW op; w stays OIHW).
    Gradient: ``conv2d_backprop_input`` for x and ``conv2d_backprop_filter`` for
    w, whose own gradients are conv ops again (second order works).
    """
    x, w = as_tensor(x), as_tensor(w)
    fmt_ = _layout(data_format, "conv2d", [x, w])
    if fmt_ == "NHWC" and x.ndim != 4:
        raise shape_error("conv2d", f"expected an NHWC input of rank 4, got rank {x.ndim}",
                          [x, w])
    y = apply(CONV2D, [_in_nchw(x, fmt_), w], name=name if fmt_ == "NCHW" else None,
              **_conv_attrs(stride, padding, "conv2d", [x, w]))
    return _out_layout(y, fmt_, name)


def conv2d_backprop_input(g, w, x, stride=1, padding="valid", name=None):
    """Gradient of ``conv2d(x, w, stride, padding)`` w.r.t. x for output cotangent ``g``.

    ``g``: (N, O, OH, OW); ``x`` supplies only its (runtime) shape. Shape: x's.
    Linear in g and w; gradient: conv2d(gg, w) for g and
    conv2d_backprop_filter(gg, g, w) for w, none for x.
    """
    g, w, x = as_tensor(g), as_tensor(w), as_tensor(x)
    return apply(CONV2D_BACKPROP_INPUT, [g, w, x], name=name,
                 **_conv_attrs(stride, padding, "conv2d_backprop_input", [g, w, x]))


def conv2d_backprop_filter(x, g, w, stride=1, padding="valid", name=None):
    """Gradient of ``conv2d(x, w, stride, padding)`` w.r.t. w for output cotangent ``g``.

    ``w`` supplies only its (runtime) shape. Shape: w's. Linear in x and g;
    gradient: conv2d_backprop_input(g, gw, x) for x and conv2d(x, gw) for g.
    """
    x, g, w = as_tensor(x), as_tensor(g), as_tensor(w)
    return apply(CONV2D_BACKPROP_FILTER, [x, g, w], name=name,
                 **_conv_attrs(stride, padding, "conv2d_backprop_filter", [x, g, w]))


# -- pooling -----------------------------------------------------------------------
def _pool_attrs(size, stride, padding, op, x):
    size = _int_pair(size, "size", op, 1, [x])
    stride = size if stride is None else _int_pair(stride, "stride", op, 1, [x])
    padding = _padding(padding, op, [x])
    if isinstance(padding, tuple) and any(p >= k for pair, k in zip(padding, size)
                                          for p in pair):
        # a window made only of padding would have no max and nothing to average
        raise shape_error(op, f"explicit padding {padding} must be smaller than the "
                          f"window {size}", [x])
    return {"size": size, "stride": stride, "padding": padding}


class _Pool(OpDef):
    """Shared shape rule: (N, C, H, W) -> (N, C, OH, OW)."""

    def infer(self, x, size, stride, padding):
        require_float(self.name, x)
        out = _checked_geometry(self.name, x, size, stride, padding, [x])
        return [((*x.shape[:2], *out), x.dtype)]


def _argmax(x, size, stride, padding):
    """Flat index (into kh*kw) of each window's max; padding never wins (-inf)."""
    pads, out = _geometry(x.shape[2:], size, stride, padding)
    cols = _windows(_pad(x, pads, -np.inf), size, stride, out)
    return np.argmax(cols.reshape(*cols.shape[:4], size[0] * size[1]), axis=-1), pads


class MaxPool2D(_Pool):
    """Max over each window."""

    name = "max_pool2d"

    def forward(self, x, size, stride, padding):
        pads, out = _run_time_geometry(self.name, x, size, stride, padding)
        return _windows(_pad(x, pads, -np.inf), size, stride, out).max(axis=(-2, -1))

    def vjp(self, node, g):
        return [apply(MAX_POOL2D_BACKPROP, [node.inputs[0], g], **node.attrs)]


MAX_POOL2D = register(MaxPool2D())


class MaxPool2DBackprop(OpDef):
    """(x, g) -> shape of x: each window's g routed to the argmax of x in that window."""

    name = "max_pool2d_backprop"

    def infer(self, x, g, size, stride, padding):
        return [(x.shape, g.dtype)]

    def forward(self, x, g, size, stride, padding):
        idx, pads = _argmax(x, size, stride, padding)
        hit = idx[..., None] == np.arange(size[0] * size[1])
        cols = (hit * g[..., None]).astype(g.dtype).reshape(*g.shape, *size)
        return _fold(cols, x.shape[2:], stride, pads)

    def vjp(self, node, gg):
        # piecewise constant in x (the routing); linear in g: its adjoint gathers gg
        x = node.inputs[0]
        return [None, apply(MAX_POOL2D_GATHER, [x, gg], **node.attrs)]


MAX_POOL2D_BACKPROP = register(MaxPool2DBackprop())


class MaxPool2DGather(_Pool):
    """(x, v) -> pooled shape: v read at the argmax of x in each window."""

    name = "max_pool2d_gather"

    def infer(self, x, v, size, stride, padding):
        return super().infer(x, size, stride, padding)

    def forward(self, x, v, size, stride, padding):
        idx, pads = _argmax(x, size, stride, padding)
        out = idx.shape[2:]
        cols = _windows(_pad(v, pads), size, stride, out).reshape(
            *idx.shape, size[0] * size[1])  # not -1: a batch of 0 has no size to infer
        return np.take_along_axis(cols, idx[..., None], axis=-1)[..., 0]

    def vjp(self, node, g):
        return [None, apply(MAX_POOL2D_BACKPROP, [node.inputs[0], g], **node.attrs)]


MAX_POOL2D_GATHER = register(MaxPool2DGather())


def _window_counts(hw, size, stride, padding):
    """(OH, OW) number of real (non-padding) pixels in each window."""
    pads, out = _geometry(hw, size, stride, padding)
    ones = _pad(np.ones((1, 1, *hw)), pads)
    return _windows(ones, size, stride, out).sum(axis=(-2, -1))[0, 0], pads


class AvgPool2D(_Pool):
    """Mean over each window's real pixels (padding is not counted)."""

    name = "avg_pool2d"

    def forward(self, x, size, stride, padding):
        _run_time_geometry(self.name, x, size, stride, padding)
        counts, pads = _window_counts(x.shape[2:], size, stride, padding)
        sums = _windows(_pad(x, pads), size, stride, counts.shape).sum(axis=(-2, -1))
        return (sums / counts).astype(x.dtype)

    def vjp(self, node, g):
        return [apply(AVG_POOL2D_BACKPROP, [g, node.inputs[0]], **node.attrs)]


AVG_POOL2D = register(AvgPool2D())


class AvgPool2DBackprop(OpDef):
    """(g, x) -> shape of x: each window's g / count spread over its pixels."""

    name = "avg_pool2d_backprop"

    def infer(self, g, x, size, stride, padding):
        return [(x.shape, g.dtype)]

    def forward(self, g, x, size, stride, padding):
        counts, pads = _window_counts(x.shape[2:], size, stride, padding)
        cols = np.broadcast_to((g / counts)[..., None, None], (*g.shape, *size))
        return _fold(cols.astype(g.dtype), x.shape[2:], stride, pads)

    def vjp(self, node, gg):
        return [apply(AVG_POOL2D, [gg], **node.attrs), None]  # the adjoint of the adjoint


AVG_POOL2D_BACKPROP = register(AvgPool2DBackprop())


def max_pool2d(x, size=2, stride=None, padding="valid", data_format="NCHW", name=None):
    """Max over ``size`` windows of NCHW ``x``, moved by ``stride`` (default: ``size``).

    ``padding`` as for :func:`conv2d` (explicit pads must be smaller than the
    window; padding never wins). Shape: (N, C, OH, OW) with the conv2d rule.
    ``data_format="NHWC"``: x and the result are (N, H, W, C).
    Gradient: g routed to each window's argmax (ties: the first); its own
    gradient gathers at the argmax, so second order works.
    """
    x = as_tensor(x)
    fmt_ = _layout(data_format, "max_pool2d", [x])
    if fmt_ == "NHWC" and x.ndim != 4:
        raise shape_error("max_pool2d", f"expected an NHWC input of rank 4, got rank {x.ndim}",
                          [x])
    attrs = _pool_attrs(size, stride, padding, "max_pool2d", x)
    y = apply(MAX_POOL2D, [_in_nchw(x, fmt_)], name=name if fmt_ == "NCHW" else None, **attrs)
    return _out_layout(y, fmt_, name)


def avg_pool2d(x, size=2, stride=None, padding="valid", data_format="NCHW", name=None):
    """Mean over ``size`` windows of NCHW ``x``, moved by ``stride`` (default: ``size``).

    Padded pixels are not counted (TensorFlow's rule): border windows average
    their real pixels only. Shape: (N, C, OH, OW) with the conv2d rule.
    ``data_format="NHWC"``: x and the result are (N, H, W, C).
    Gradient: g / count spread over each window (linear; second order works).
    """
    x = as_tensor(x)
    fmt_ = _layout(data_format, "avg_pool2d", [x])
    if fmt_ == "NHWC" and x.ndim != 4:
        raise shape_error("avg_pool2d", f"expected an NHWC input of rank 4, got rank {x.ndim}",
                          [x])
    attrs = _pool_attrs(size, stride, padding, "avg_pool2d", x)
    y = apply(AVG_POOL2D, [_in_nchw(x, fmt_)], name=name if fmt_ == "NCHW" else None, **attrs)
    return _out_layout(y, fmt_, name)
