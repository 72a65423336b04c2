"""Fusion: group the ops into :class:`~graphdl.passes.ir.Kernel` s (``lp.kernels``).

This first version makes one kernel per op (the contract generators code against);
``kind`` is chosen from the op's flags.
"""

from ..ops.linalg import MATMUL
from .ir import Kernel


def run(lp):
    """``lp`` with ``kernels`` set: one per op, in program order."""
    lp.kernels = [_single(lop) for lop in lp.ops]
    _set_boundaries(lp)
    return lp


def _single(lop):
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


def _set_boundaries(lp):
    """Fill each kernel's ``inputs`` and ``outputs`` from the data flow."""
    owner = {o: k for k in lp.kernels for lop in k.ops for o in lop.outputs}
    used_outside = {v for v in lp.live_values()}
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
