"""Convolution and pooling: calls into the library kernels of :mod:`.conv`
(compiled once per dtype, shared by every program, called by address: see
:mod:`.library`). The
rules compute each spatial axis's padding and output size at run time with
``axis_geometry``, allocate the output and pass plain ints; see the contract in
:mod:`.conv`'s docstring."""

from ....ops.conv import (
    AVG_POOL2D,
    AVG_POOL2D_BACKPROP,
    CONV2D,
    CONV2D_BACKPROP_FILTER,
    CONV2D_BACKPROP_INPUT,
    MAX_POOL2D,
    MAX_POOL2D_BACKPROP,
    MAX_POOL2D_GATHER,
)
from . import CPU
from .linalg import operand

_MODULE = "graphdl.backends.numba_cpu.kernels.conv"


def _padding_args(padding):
    if padding == "same":
        return (1, 0, 0, 0, 0)
    if padding == "valid":
        return (0, 0, 0, 0, 0)
    (t, b), (le, r) = padding
    return (0, int(t), int(b), int(le), int(r))


def _geometry(ctx, x_name, kh, kw, attrs):
    """Emit the per-axis geometry; returns (pt, pl, oh, ow) names, checked >= 1."""
    ctx.require(_MODULE, ["axis_geometry"])
    sh, sw = attrs["stride"]
    same, top, bottom, left, right = _padding_args(attrs["padding"])
    pt, pl, oh, ow = (ctx.fresh(p) for p in ("pt", "pl", "oh", "ow"))
    ctx.line(f"{pt}, {oh} = axis_geometry({x_name}.shape[2], {kh}, {sh}, {same}, {top}, "
             f"{bottom})")
    ctx.line(f"{pl}, {ow} = axis_geometry({x_name}.shape[3], {kw}, {sw}, {same}, {left}, "
             f"{right})")
    ctx.fit_check(f"{oh} >= 1 and {ow} >= 1", "the window does not fit the image")
    return pt, pl, oh, ow


def _call(ctx, fn, lop, args):
    ctx.call_kernel(fn, lop.outputs[0].dtype, args)


@CPU.register(CONV2D)
def lower_conv2d(ctx, lop):
    x, w = lop.inputs
    out = lop.outputs[0]
    xs, ws = operand(ctx, x, out.dtype), operand(ctx, w, out.dtype)
    if x.shape[1] is None or w.shape[1] is None:
        ctx.check(f"{xs}.shape[1] == {ws}.shape[1]", "conv2d: x has {} input channels at "
                  "run time but w expects {}")
    pt, pl, oh, ow = _geometry(ctx, xs, f"{ws}.shape[2]", f"{ws}.shape[3]", lop.attrs)
    ctx.alloc(out, [ctx.dim(x, 0), ctx.dim(w, 0), oh, ow])
    sh, sw = lop.attrs["stride"]
    _call(ctx, "conv2d", lop, [xs, ws, ctx.out(), str(sh), str(sw), pt, pl])


@CPU.register(CONV2D_BACKPROP_INPUT)
def lower_conv2d_backprop_input(ctx, lop):
    g, w, x = lop.inputs
    out = lop.outputs[0]
    gs, ws = operand(ctx, g, out.dtype), operand(ctx, w, out.dtype)
    xs = ctx.array(x)
    pt, pl, oh, ow = _geometry(ctx, xs, f"{ws}.shape[2]", f"{ws}.shape[3]", lop.attrs)
    ctx.fit_check(f"{gs}.shape[2] == {oh} and {gs}.shape[3] == {ow}",
                  "g does not have conv2d's output shape")
    ctx.alloc(out, [ctx.dim(x, k) for k in range(4)])
    sh, sw = lop.attrs["stride"]
    _call(ctx, "conv2d_backprop_input", lop, [gs, ws, ctx.out(), str(sh), str(sw), pt, pl])


@CPU.register(CONV2D_BACKPROP_FILTER)
def lower_conv2d_backprop_filter(ctx, lop):
    x, g, w = lop.inputs
    out = lop.outputs[0]
    xs, gs = operand(ctx, x, out.dtype), operand(ctx, g, out.dtype)
    wn = ctx.array(w)
    pt, pl, oh, ow = _geometry(ctx, xs, f"{wn}.shape[2]", f"{wn}.shape[3]", lop.attrs)
    ctx.fit_check(f"{gs}.shape[2] == {oh} and {gs}.shape[3] == {ow}",
                  "g does not have conv2d's output shape")
    ctx.alloc(out, [ctx.dim(w, k) for k in range(4)])
    sh, sw = lop.attrs["stride"]
    _call(ctx, "conv2d_backprop_filter", lop, [xs, gs, ctx.out(), str(sh), str(sw), pt, pl])


def _pool_ints(lop, pt, pl):
    kh, kw = lop.attrs["size"]
    sh, sw = lop.attrs["stride"]
    return [str(kh), str(kw), str(sh), str(sw), pt, pl]


@CPU.register(MAX_POOL2D, AVG_POOL2D)
def lower_pool(ctx, lop):
    x, out = lop.inputs[0], lop.outputs[0]
    xs = ctx.array(x)
    kh, kw = lop.attrs["size"]
    pt, pl, oh, ow = _geometry(ctx, xs, kh, kw, lop.attrs)
    ctx.alloc(out, [ctx.dim(x, 0), ctx.dim(x, 1), oh, ow])
    _call(ctx, lop.op.name, lop, [xs, ctx.out()] + _pool_ints(lop, pt, pl))


@CPU.register(MAX_POOL2D_BACKPROP)
def lower_max_pool_backprop(ctx, lop):
    x, g = lop.inputs
    out = lop.outputs[0]
    xs, gs = operand(ctx, x, out.dtype), operand(ctx, g, out.dtype)
    kh, kw = lop.attrs["size"]
    pt, pl, oh, ow = _geometry(ctx, xs, kh, kw, lop.attrs)
    ctx.alloc(out, [ctx.dim(x, k) for k in range(4)])
    _call(ctx, "max_pool2d_backprop", lop, [xs, gs, ctx.out()] + _pool_ints(lop, pt, pl))


@CPU.register(MAX_POOL2D_GATHER)
def lower_max_pool_gather(ctx, lop):
    x, v = lop.inputs
    out = lop.outputs[0]
    xs, vs = operand(ctx, x, out.dtype), operand(ctx, v, out.dtype)
    kh, kw = lop.attrs["size"]
    pt, pl, oh, ow = _geometry(ctx, xs, kh, kw, lop.attrs)
    ctx.alloc(out, [ctx.dim(x, 0), ctx.dim(x, 1), oh, ow])
    _call(ctx, "max_pool2d_gather", lop, [xs, vs, ctx.out()] + _pool_ints(lop, pt, pl))


@CPU.register(AVG_POOL2D_BACKPROP)
def lower_avg_pool_backprop(ctx, lop):
    g, x = lop.inputs
    out = lop.outputs[0]
    gs = operand(ctx, g, out.dtype)
    xs = ctx.array(x)
    kh, kw = lop.attrs["size"]
    pt, pl, oh, ow = _geometry(ctx, xs, kh, kw, lop.attrs)
    ctx.alloc(out, [ctx.dim(x, k) for k in range(4)])
    _call(ctx, "avg_pool2d_backprop", lop, [gs, ctx.out()] + _pool_ints(lop, pt, pl))
