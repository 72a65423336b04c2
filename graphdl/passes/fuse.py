"""Fusion: group the ops into :class:`~graphdl.passes.ir.Kernel` s (``lp.kernels``).

One greedy walk in program order. An elementwise op joins the kernel that produced
its latest input when that kernel is still open and iterates over the op's output
shape: an elementwise kernel, or a matmul kernel (the op becomes part of its epilogue:
bias add, activation). A reduction joins the elementwise kernel producing its input
when that kernel iterates over the reduction's input shape; the kernel becomes a
reduction kernel and closes (its producers run once, in the same loop; those read
later are outputs). Everything else is a kernel of its own.

Joining only the kernel of the *latest* input keeps the kernel order a valid
schedule: every other input comes from an earlier kernel or a parameter. Constants
(small ones; big ones are parameters by now) come first, each its own ``op`` kernel,
so reading one never splits a chain. Inputs of a
smaller shape broadcast inside the loop (``Kernel.axis_map``). Ops are reordered to
the kernels' order; random ops keep their relative order (each is its own kernel).
"""

from ..ops.linalg import MATMUL
from ..ops.sources import CONSTANT
from .ir import Kernel


def run(lp):
    """``lp`` with ``kernels`` set and ``ops`` in kernel order."""
    kernels = []
    is_open = []  # per kernel: may ops still join it
    where = {}    # Value -> index of the kernel producing it
    # constants first: an op reading one then joins the kernel of its other inputs
    ordered = [lop for lop in lp.ops if lop.op is CONSTANT]
    ordered += [lop for lop in lp.ops if lop.op is not CONSTANT]
    for lop in ordered:
        index = _join(lop, kernels, is_open, where)
        if index is None:
            kernel = _start(lop)
            kernels.append(kernel)
            is_open.append(kernel.kind in ("elementwise", "matmul"))
            index = len(kernels) - 1
        for o in lop.outputs:
            where[o] = index
    lp.kernels = kernels
    lp.ops = [lop for k in kernels for lop in k.ops]
    set_boundaries(lp)
    return lp


def _join(lop, kernels, is_open, where):
    """The index of the open kernel ``lop`` joins (after adding it), or None."""
    op = lop.op
    if op.scalar is None and not op.reduction:
        return None
    latest = max((where[v] for v in lop.inputs if v in where), default=None)
    if latest is None or not is_open[latest]:
        return None  # reads only parameters, or its latest input's kernel is closed
    k = kernels[latest]
    if op.scalar is not None:
        if lop.outputs[0].shape != k.shape:
            return None
        k.ops.append(lop)
        return latest
    # a reduction of a value this elementwise kernel computes over its whole shape
    if k.kind != "elementwise" or lop.inputs[0].shape != k.shape:
        return None
    k.ops.append(lop)
    k.kind = "reduction"
    k.reduce_axes = tuple(lop.attrs["axes"])
    k.keepdims = lop.attrs["keepdims"]
    is_open[latest] = False
    return latest


def _start(lop):
    op = lop.op
    if op.scalar is not None:
        return Kernel("elementwise", [lop], [], [], lop.outputs[0].shape)
    if op.reduction:
        return Kernel("reduction", [lop], [], [], lop.inputs[0].shape,
                      reduce_axes=lop.attrs["axes"], keepdims=lop.attrs["keepdims"])
    if op is MATMUL:
        return Kernel("matmul", [lop], [], [], lop.outputs[0].shape)
    shape = lop.outputs[0].shape if lop.outputs else ()
    return Kernel("op", [lop], [], [], shape)


def set_boundaries(lp):
    """Fill each kernel's ``inputs`` and ``outputs`` from the data flow."""
    owner = {o: k for k in lp.kernels for lop in k.ops for o in lop.outputs}
    used_outside = set(lp.live_values())
    for k in lp.kernels:
        for lop in k.ops:
            for v in lop.inputs:
                if owner.get(v) is not k:
                    used_outside.add(v)
    for k in lp.kernels:
        inside = {o for lop in k.ops for o in lop.outputs}
        seen = set()
        k.inputs = []
        for lop in k.ops:
            for v in lop.inputs:
                if v not in inside and v not in seen:
                    seen.add(v)
                    k.inputs.append(v)
        k.outputs = [o for lop in k.ops for o in lop.outputs if o in used_outside]
