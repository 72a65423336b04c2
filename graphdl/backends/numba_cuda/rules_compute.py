"""CUDA rules for the compute ops: reductions, matmul, softmax, labels, conv2d and
its gradients, pooling, dropout. See :mod:`.rules` for the rule contract."""

import math
import os

import numpy as np

from ...errors import GraphError
from ...ops.conv import _geometry
from ...shapes import fmt
from . import kernels as K
from .kernels import common
from .kernels.common import ROW_THREADS, TILE, row_blocks
from .rules import fail, rule
from .runtime import cast_buf, contiguous_strides, fill, launch_1d, permuted


def _typed(module, dtype):
    return K.typed(module, np.dtype(dtype).name)


# -- reductions ---------------------------------------------------------------------
def _rows_view(rt, slot, x, axes):
    """x with ``axes`` moved last, as (rows, k) contiguous; plus the kept shape."""
    kept = [a for a in range(len(x.shape)) if a not in axes]
    xt = permuted(rt, (slot, "perm"), x, kept + list(axes))
    rows = int(np.prod([x.shape[a] for a in kept], dtype=np.int64))
    k = int(np.prod([x.shape[a] for a in axes], dtype=np.int64))
    return xt, rows, k


def _reduced_shape(shape, axes, keepdims):
    if keepdims:
        return tuple(1 if i in axes else d for i, d in enumerate(shape))
    return tuple(d for i, d in enumerate(shape) if i not in axes)


def reduce(rt, slot, lop, x, axes, keepdims, mode, mean=False):
    """sum/mean/max/min of ``x`` over ``axes`` into a new Buf."""
    dtype = np.dtype(lop.outputs[0].dtype)
    xt, rows, k = _rows_view(rt, slot, x, axes)
    shape = _reduced_shape(x.shape, axes, keepdims)
    if k == 0:
        if mode != common.SUM:
            fail(lop, [x], "zero-size reduction has no identity")
        return fill(rt, (slot, 0), shape, dtype, np.nan if mean else 0)
    xt = cast_buf(rt, (slot, "cast"), xt, dtype)
    out = rt.alloc((slot, 0), shape, dtype)
    if rows:
        kern = _typed("reduction", dtype).reduce_rows
        scale = dtype.type(1.0 / k) if mean else dtype.type(1)
        kern[row_blocks(rows), ROW_THREADS](out.data, xt.data, rows, k, mode, scale)
    return out


_MODES = {"sum": common.SUM, "mean": common.SUM, "max": common.MAX, "min": common.MIN}


@rule("sum", "mean", "max", "min")
def _reduction(lop, slot):
    axes, keepdims = lop.attrs["axes"], lop.attrs["keepdims"]
    mode, mean = _MODES[lop.op.name], lop.op.name == "mean"
    return lambda rt, x: (reduce(rt, slot, lop, x, axes, keepdims, mode, mean),)


@rule("argmax", "argmin")
def _argreduce(lop, slot):
    axes, keepdims = lop.attrs["axes"], lop.attrs["keepdims"]
    mode = common.MAX if lop.op.name == "argmax" else common.MIN

    def launch(rt, x):
        xt, rows, k = _rows_view(rt, slot, x, axes)
        if k == 0:
            fail(lop, [x], "attempt to get argmax/argmin of an empty axis")
        out = rt.alloc((slot, 0), _reduced_shape(x.shape, axes, keepdims), np.int64)
        if rows:
            kern = _typed("reduction", xt.dtype).argreduce_rows
            kern[row_blocks(rows), ROW_THREADS](out.data, xt.data, rows, k, mode)
        return (out,)
    return launch


@rule("sum_to_like")
def _sum_to_like(lop, slot):
    def launch(rt, g, like):
        lead = len(g.shape) - len(like.shape)
        axes = tuple(range(lead)) + tuple(lead + i for i, d in enumerate(like.shape)
                                          if d == 1 and g.shape[lead + i] != 1)
        if not axes:
            return (g.view(like.shape),)
        out = reduce(rt, slot, lop, g, axes, True, common.SUM)
        return (out.view(like.shape),)
    return launch


# -- matmul -------------------------------------------------------------------------
#: "cublas" routes matmuls through CuPy (cuBLAS) when it is installed
MATMUL_ENGINE = os.environ.get("GRAPHDL_CUDA_MATMUL", "tiled")


def matmul_views(rt, slot, c, a, a_view, b, b_view, n, m, k, bshape, dtype):
    """c[z] = A[z] @ B[z] where each view is (batch strides, row stride, col stride)."""
    batch = int(np.prod(bshape, dtype=np.int64)) if bshape else 1
    if batch == 0 or n == 0 or m == 0:
        return
    if k == 0:
        launch_1d(K.copy.fill, c.size, c.data, dtype.type(0), c.size)
        return
    bshape_t = tuple(int(d) for d in bshape) or (1,)
    a_bs = tuple(a_view[0]) or (0,)
    b_bs = tuple(b_view[0]) or (0,)
    grid = (math.ceil(m / TILE), math.ceil(n / TILE), min(batch, 65535))
    kern = _typed("linalg", dtype).matmul
    kern[grid, (TILE, TILE)](c.data, a.data, b.data, n, m, k, batch, bshape_t,
                             a_bs, a_view[1], a_view[2], b_bs, b_view[1], b_view[2])


def matmul_setup(lop, rt, slot, a, b):
    """Shape checks and operand views of one matmul LOp on run-time buffers:
    (a, b, (n, m, k), bshape, a_view, b_view); transposes are stride swaps."""
    dtype = np.dtype(lop.outputs[0].dtype)
    ta, tb = lop.attrs.get("transpose_a", False), lop.attrs.get("transpose_b", False)
    a_shape = a.shape[:-2] + a.shape[-2:][::-1] if ta else a.shape
    b_shape = b.shape[:-2] + b.shape[-2:][::-1] if tb else b.shape
    if a_shape[-1] != b_shape[-2]:
        fail(lop, [a, b], f"inner dimensions differ ({a_shape[-1]} vs {b_shape[-2]})")
    try:
        bshape = tuple(np.broadcast_shapes(a.shape[:-2], b.shape[:-2]))
    except ValueError:
        fail(lop, [a, b], "batch dimensions cannot be broadcast")
    a = cast_buf(rt, (slot, "a"), a, dtype)
    b = cast_buf(rt, (slot, "b"), b, dtype)
    sa, sb = contiguous_strides(a.shape), contiguous_strides(b.shape)
    a_rc = (sa[-1], sa[-2]) if ta else (sa[-2], sa[-1])  # a transpose is a stride swap
    b_rc = (sb[-1], sb[-2]) if tb else (sb[-2], sb[-1])
    a_view = (_batch_strides(a.shape[:-2], sa[:-2], bshape), *a_rc)
    b_view = (_batch_strides(b.shape[:-2], sb[:-2], bshape), *b_rc)
    return a, b, (a_shape[-2], b_shape[-1], a_shape[-1]), bshape, a_view, b_view


@rule("matmul")
def _matmul(lop, slot):
    dtype = np.dtype(lop.outputs[0].dtype)
    transposed = lop.attrs.get("transpose_a", False) or lop.attrs.get("transpose_b", False)

    def launch(rt, a, b):
        a, b, (n, m, k), bshape, a_view, b_view = matmul_setup(lop, rt, slot, a, b)
        out = rt.alloc((slot, 0), bshape + (n, m), dtype)
        if MATMUL_ENGINE == "cublas" and not transposed and _cublas_matmul(out, a, b):
            return (out,)
        matmul_views(rt, slot, out, a, a_view, b, b_view, n, m, k, bshape, dtype)
        return (out,)
    return launch


def _batch_strides(shape, strides, bshape):
    lead = len(bshape) - len(shape)
    return tuple(0 if i < lead or shape[i - lead] == 1 else strides[i - lead]
                 for i in range(len(bshape)))


def _cublas_matmul(out, a, b):
    """out = a @ b through CuPy's matmul (cuBLAS); False when CuPy is not importable."""
    try:
        import cupy  # noqa: PLC0415
    except ImportError:
        return False
    ca = cupy.asarray(a.data)[:a.size].reshape(a.shape)
    cb = cupy.asarray(b.data)[:b.size].reshape(b.shape)
    co = cupy.asarray(out.data)[:out.size].reshape(out.shape)
    cupy.matmul(ca, cb, out=co)
    return True


# -- softmax, labels ----------------------------------------------------------------
@rule("softmax", "log_softmax")
def _softmax(lop, slot):
    axis, log = lop.attrs["axis"], lop.op.name == "log_softmax"

    def launch(rt, x):
        nd = len(x.shape)
        perm = [a for a in range(nd) if a != axis] + [axis]
        xt = permuted(rt, (slot, "in"), x, perm)
        k = x.shape[axis]
        rows = x.size // k if k else 0
        out = rt.alloc((slot, "rows"), xt.shape, x.dtype)
        if rows:
            kern = _typed("nn", x.dtype).softmax_rows
            kern[row_blocks(rows), ROW_THREADS](out.data, xt.data, rows, k, log)
        back = [int(i) for i in np.argsort(perm)]
        result = permuted(rt, (slot, 0), out, back)
        return (result if result is not out else out,)
    return launch


@rule("one_hot")
def _one_hot(lop, slot):
    depth, dtype = lop.attrs["depth"], lop.attrs["dtype"]

    def launch(rt, idx):
        out = rt.alloc((slot, 0), idx.shape + (depth,), dtype)
        launch_1d(K.labels.one_hot, out.size, out.data, idx.data, depth, out.size)
        return (out,)
    return launch


@rule("label_one_hot")
def _label_one_hot(lop, slot):
    dtype = lop.outputs[0].dtype

    def launch(rt, labels, like):
        depth = like.shape[-1]
        if labels.shape != like.shape[:-1]:
            raise fail(lop, [labels, like], f"sparse_softmax_cross_entropy: labels of "
                       f"run-time shape {fmt(labels.shape)} do not match logits "
                       f"{fmt(like.shape)} without its last (class) axis")
        out = rt.alloc((slot, 0), like.shape, dtype)
        code = rt.error_slot(f"sparse_softmax_cross_entropy: label {{}} is out of range "
                             f"for {depth} classes")
        launch_1d(K.labels.label_one_hot, out.size, out.data, labels.data, depth, out.size,
                  rt.error, code)
        return (out,)
    return launch


# -- convolution ----------------------------------------------------------------------
def _geom(lop, bufs, x_shape, k_hw, stride, padding):
    pads, out = _geometry(x_shape[2:], k_hw, stride, padding)
    if min(out) < 1:
        fail(lop, bufs, f"the window {k_hw} is larger than the padded input at run time")
    n, c, h, w = x_shape
    return (n, c, h, w, k_hw[0], k_hw[1], out[0], out[1], stride[0], stride[1],
            pads[0][0], pads[1][0])


def _cols(rt, slot, x, geom):
    n, c, h, w, kh, kw, oh, ow = geom[:8]
    cols = rt.alloc((slot, "cols"), (c * kh * kw, n * oh * ow), x.dtype)
    launch_1d(K.conv.im2col, cols.size, cols.data, x.data, geom, cols.size)
    return cols


def _mm(rt, slot, out, a, a_rc, b, b_rc, n, m, k):
    """2-D out(n, m) = A(n, k) @ B(k, m), A and B given by (row, col) strides."""
    matmul_views(rt, slot, out, a, ((), a_rc[0], a_rc[1]), b, ((), b_rc[0], b_rc[1]),
                 n, m, k, (), np.dtype(out.dtype))


@rule("conv2d")
def _conv2d(lop, slot):
    stride, padding = lop.attrs["stride"], lop.attrs["padding"]
    dtype = np.dtype(lop.outputs[0].dtype)

    def launch(rt, x, w):
        if x.shape[1] != w.shape[1]:
            fail(lop, [x, w], f"x has {x.shape[1]} input channels at run time but w "
                 f"expects {w.shape[1]}")
        x, w = cast_buf(rt, (slot, "x"), x, dtype), cast_buf(rt, (slot, "w"), w, dtype)
        geom = _geom(lop, [x, w], x.shape, w.shape[2:], stride, padding)
        n, c, _, _, kh, kw, oh, ow = geom[:8]
        o, ckk, p = w.shape[0], c * kh * kw, n * oh * ow
        cols = _cols(rt, slot, x, geom)
        y = rt.alloc((slot, "y"), (o, n, oh * ow), dtype)  # W (O, CKK) @ cols (CKK, NP)
        _mm(rt, slot, y, w, (ckk, 1), cols, (p, 1), o, p, ckk)
        return (permuted(rt, (slot, 0), y, (1, 0, 2)).view((n, o, oh, ow)),)
    return launch


@rule("conv2d_backprop_filter")
def _conv2d_filter(lop, slot):
    stride, padding = lop.attrs["stride"], lop.attrs["padding"]
    dtype = np.dtype(lop.outputs[0].dtype)

    def launch(rt, x, g, w):
        x, g = cast_buf(rt, (slot, "x"), x, dtype), cast_buf(rt, (slot, "g"), g, dtype)
        geom = _geom(lop, [x, g, w], x.shape, w.shape[2:], stride, padding)
        n, c, _, _, kh, kw, oh, ow = geom[:8]
        o, ckk, p = w.shape[0], c * kh * kw, n * oh * ow
        cols = _cols(rt, slot, x, geom)
        gt = permuted(rt, (slot, "gt"), g.view((n, o, oh * ow)), (1, 0, 2))  # (O, NP)
        dw = rt.alloc((slot, 0), w.shape, dtype)  # g (O, NP) @ cols.T (NP, CKK)
        _mm(rt, slot, dw, gt, (p, 1), cols, (1, p), o, ckk, p)
        return (dw,)
    return launch


@rule("conv2d_backprop_input")
def _conv2d_input(lop, slot):
    stride, padding = lop.attrs["stride"], lop.attrs["padding"]
    dtype = np.dtype(lop.outputs[0].dtype)

    def launch(rt, g, w, x):
        g, w = cast_buf(rt, (slot, "g"), g, dtype), cast_buf(rt, (slot, "w"), w, dtype)
        geom = _geom(lop, [g, w, x], x.shape, w.shape[2:], stride, padding)
        n, c, _, _, kh, kw, oh, ow = geom[:8]
        o, ckk, p = w.shape[0], c * kh * kw, n * oh * ow
        gt = permuted(rt, (slot, "gt"), g.view((n, o, oh * ow)), (1, 0, 2))  # (O, NP)
        dcols = rt.alloc((slot, "dcols"), (ckk, p), dtype)  # W.T (CKK, O) @ g (O, NP)
        _mm(rt, slot, dcols, w, (1, ckk), gt, (p, 1), ckk, p, o)
        dx = rt.alloc((slot, 0), x.shape, dtype)
        launch_1d(K.conv.col2im, dx.size, dx.data, dcols.data, geom, dx.size)
        return (dx,)
    return launch


# -- pooling --------------------------------------------------------------------------
def _pool_geom(lop, bufs, x_shape):
    a = lop.attrs
    return _geom(lop, bufs, x_shape, a["size"], a["stride"], a["padding"])


@rule("max_pool2d", "avg_pool2d")
def _pool(lop, slot):
    kern_name = "max_pool" if lop.op.name == "max_pool2d" else "avg_pool"

    def launch(rt, x):
        geom = _pool_geom(lop, [x], x.shape)
        out = rt.alloc((slot, 0), x.shape[:2] + geom[6:8], x.dtype)
        launch_1d(getattr(K.conv, kern_name), out.size, out.data, x.data, geom, out.size)
        return (out,)
    return launch


@rule("max_pool2d_gather")
def _pool_gather(lop, slot):
    def launch(rt, x, v):
        geom = _pool_geom(lop, [x, v], x.shape)
        out = rt.alloc((slot, 0), x.shape[:2] + geom[6:8], v.dtype)
        launch_1d(K.conv.max_pool_gather, out.size, out.data, x.data, v.data, geom, out.size)
        return (out,)
    return launch


@rule("max_pool2d_backprop")
def _max_pool_backprop(lop, slot):
    def launch(rt, x, g):
        geom = _pool_geom(lop, [x, g], x.shape)
        dx = rt.alloc((slot, 0), x.shape, g.dtype)
        launch_1d(K.conv.max_pool_backprop, dx.size, dx.data, x.data, g.data, geom, dx.size)
        return (dx,)
    return launch


@rule("avg_pool2d_backprop")
def _avg_pool_backprop(lop, slot):
    def launch(rt, g, x):
        geom = _pool_geom(lop, [g, x], x.shape)
        dx = rt.alloc((slot, 0), x.shape, g.dtype)
        launch_1d(K.conv.avg_pool_backprop, dx.size, dx.data, g.data, geom, dx.size)
        return (dx,)
    return launch


# -- randomness -------------------------------------------------------------------------
@rule("dropout_mask")
def _dropout_mask(lop, slot):
    rate = float(lop.attrs["rate"])
    dtype = lop.outputs[0].dtype

    def launch(rt, x):
        out = rt.alloc((slot, 0), x.shape, dtype)
        key = np.uint64(rt.rng.integers(2**63))  # a fresh draw per run, from the seed
        launch_1d(K.random.dropout_mask, out.size, out.data, key, rate, out.size)
        return (out,)
    return launch


def check_no_error(rt):
    """Raise the first error a kernel recorded on the device during this run."""
    if rt.error is None:
        return
    flag, value = rt.error.copy_to_host()
    if flag:
        raise GraphError(rt.error_msgs[int(flag) - 1].format(int(value)))


# -- run-time shapes, fill, gather ----------------------------------------------------
@rule("shape")
def _shape(lop, slot):
    return lambda rt, x: (rt.upload((slot, 0), np.array(x.shape, dtype=np.int64)),)


@rule("fill")
def _fill(lop, slot):
    dims, value, dtype = lop.attrs["dims"], lop.attrs["value"], lop.attrs["dtype"]

    def launch(rt, *sizes):
        it = iter(sizes)  # run-time sizes: scalars on the device (a small copy back)
        full = tuple(int(next(it).to_host()) if d is None else d for d in dims)
        if any(d < 0 for d in full):
            raise GraphError(f"fill: negative dimension in run-time shape {full}")
        return (fill(rt, (slot, 0), full, dtype, value),)
    return launch


def _blocks3(shape, axis):
    outer = int(np.prod(shape[:axis], dtype=np.int64))
    inner = int(np.prod(shape[axis + 1:], dtype=np.int64))
    return outer, shape[axis], inner


@rule("gather")
def _gather(lop, slot):
    axis = lop.attrs["axis"]

    def launch(rt, params, indices):
        outer, size, inner = _blocks3(params.shape, axis)
        out = rt.alloc((slot, 0), params.shape[:axis] + indices.shape
                       + params.shape[axis + 1:], params.dtype)
        code = rt.error_slot(f"gather: index {{}} is out of range for axis {axis} with "
                             f"size {size}")
        launch_1d(K.array.gather, out.size, out.data, params.data, indices.data,
                  (outer, size, indices.size, inner), rt.error, code)
        return (out,)
    return launch


@rule("gather_grad")
def _gather_grad(lop, slot):
    axis = lop.attrs["axis"]
    dtype = lop.outputs[0].dtype

    def launch(rt, g, indices, like):
        outer, size, inner = _blocks3(like.shape, axis)
        out = fill(rt, (slot, 0), like.shape, dtype, 0)
        code = rt.error_slot(f"gather: index {{}} is out of range for axis {axis} with "
                             f"size {size}")
        launch_1d(K.array.gather_add, g.size, out.data, g.data, indices.data,
                  (outer, size, indices.size, inner), rt.error, code)
        return (out,)
    return launch
