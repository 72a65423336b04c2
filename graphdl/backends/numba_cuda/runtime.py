"""Device buffers and the per-program state of the host side.

A :class:`Buf` is a flat 1-D device array plus the logical shape: reshapes,
squeezes and the like are free (a new Buf on the same data), and every kernel
indexes flat memory with shapes and strides passed as tuples.

A :class:`Runtime` belongs to one compiled program. Its arena keeps the device
array of every op output slot between runs, so a training step allocates
nothing after its first run (cudaMalloc is slow and synchronizing). A slot's
array is handed over to a variable when its value is committed, and the
variable's previous array takes its place (double buffering, no copy).
"""

import numpy as np
from numba import cuda

from .kernels import copy as copy_kernels
from .kernels.common import THREADS, blocks, contiguous_strides, padded


class Buf:
    """``data``: flat device array (at least ``size`` elements); ``shape``: logical
    shape; ``slot``: the arena slot owning ``data`` (None for parameters and
    constants, which must never be handed to a variable without a copy)."""

    __slots__ = ("data", "shape", "dtype", "slot")

    def __init__(self, data, shape, slot=None):
        self.data = data
        self.shape = tuple(int(d) for d in shape)
        self.dtype = data.dtype
        self.slot = slot

    @property
    def size(self):
        return int(np.prod(self.shape, dtype=np.int64))

    def view(self, shape):
        """The same data under another shape of the same size."""
        return Buf(self.data, shape, self.slot)

    def to_host(self):
        host = self.data.copy_to_host() if self.data.size else np.empty(0, self.dtype)
        return host[:self.size].reshape(self.shape)

    def __repr__(self):
        return f"<Buf {self.shape} {self.dtype}>"


class Runtime:
    """Arena of device arrays by slot, plus small per-program device state."""

    def __init__(self):
        self.arena = {}
        self.error = None   # int64[2]: code of the first failed device check, payload
        self.error_msgs = []
        self.rng = None     # the session's NumPy generator, set by the backend per run

    def error_slot(self, message):
        """A code (>= 1) for a device check whose failure reads ``message.format(value)``."""
        if message not in self.error_msgs:
            self.error_msgs.append(message)
        if self.error is None:
            self.error = cuda.to_device(np.zeros(2, np.int64))
        return self.error_msgs.index(message) + 1

    def reset_errors(self):
        if self.error is not None:
            self.error.copy_to_device(np.zeros(2, np.int64))

    def alloc(self, slot, shape, dtype):
        """A device array for ``slot`` of ``shape`` and ``dtype`` (reused across runs)."""
        n = max(int(np.prod(shape, dtype=np.int64)), 1)
        dtype = np.dtype(dtype)
        data = self.arena.get(slot)
        if data is None or data.size != n or data.dtype != dtype:
            data = cuda.device_array(n, dtype)
            self.arena[slot] = data
        return Buf(data, shape, slot)

    def upload(self, slot, host):
        """A feed's host array on the device, in its arena slot."""
        host = np.asarray(host, order="C")
        buf = self.alloc(slot, host.shape, host.dtype)
        if host.size:
            buf.data.copy_to_device(host.reshape(-1))
        return buf

    def take(self, buf):
        """Hand ``buf``'s array over to the caller (a variable); None if it cannot be
        taken (not owned by a slot, or already taken this run)."""
        if buf.slot is None or self.arena.get(buf.slot) is not buf.data:
            return None
        del self.arena[buf.slot]
        return buf.data

    def give(self, slot, data):
        """Return a variable's previous array to the arena for reuse."""
        if slot is not None and slot not in self.arena:
            self.arena[slot] = data


_CONFIGURED = {}  # (kernel, grid) -> kernel[grid, THREADS], bound once


def launch_1d(kernel, n, *args):
    """Launch a grid-stride 1-D kernel over ``n`` items (nothing for n == 0)."""
    if n:
        grid = blocks(n)
        bound = _CONFIGURED.get((kernel, grid))
        if bound is None:
            bound = _CONFIGURED[(kernel, grid)] = kernel[grid, THREADS]
        bound(*args)


def strided_copy(dst, d_off, d_strides, src, s_off, s_strides, shape):
    """Copy the view ``src`` (offset, strides over ``shape``) into the view ``dst``."""
    n = int(np.prod(shape, dtype=np.int64))
    shape_t, d_t = padded(shape, d_strides)
    _, s_t = padded(shape, s_strides)
    launch_1d(copy_kernels.copy_strided, n, dst.data, int(d_off), d_t, src.data,
              int(s_off), s_t, shape_t, n)


def contiguous_copy(rt, slot, src, shape, s_off, s_strides):
    """A new contiguous Buf of ``shape`` holding the view (offset, strides) of src."""
    out = rt.alloc(slot, shape, src.dtype)
    strided_copy(out, 0, contiguous_strides(shape), src, s_off, s_strides, shape)
    return out


def permuted(rt, slot, x, perm):
    """``x`` transposed by ``perm`` into a contiguous buffer (x itself if perm is the
    identity)."""
    if tuple(perm) == tuple(range(len(perm))):
        return x
    strides = contiguous_strides(x.shape)
    shape = tuple(x.shape[p] for p in perm)
    return contiguous_copy(rt, slot, x, shape, 0, tuple(strides[p] for p in perm))


def cast_buf(rt, slot, x, dtype):
    """``x`` converted to ``dtype`` (x itself when it already is)."""
    if x.dtype == np.dtype(dtype):
        return x
    out = rt.alloc(slot, x.shape, dtype)
    launch_1d(copy_kernels.copy_flat, x.size, out.data, x.data, x.size)
    return out


def fill(rt, slot, shape, dtype, value):
    out = rt.alloc(slot, shape, dtype)
    n = out.size
    launch_1d(copy_kernels.fill, n, out.data, np.dtype(dtype).type(value), n)
    return out


def broadcast_strides(in_shape, out_shape):
    """Strides (in elements) reading a contiguous ``in_shape`` array as ``out_shape``."""
    lead = len(out_shape) - len(in_shape)
    strides = contiguous_strides(in_shape)
    return tuple(0 if i < lead or in_shape[i - lead] == 1 and out_shape[i] != 1
                 else strides[i - lead] for i in range(len(out_shape)))
