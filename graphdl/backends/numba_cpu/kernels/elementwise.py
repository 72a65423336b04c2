"""Elementwise ops: one loop nest over the broadcast output, the op's scalar rule
inlined in its body (the result is cast to the output dtype on store)."""

from ....ops.base import REGISTRY
from ..codegen import broadcast
from . import CPU


def lower_elementwise(ctx, lop):
    out = lop.outputs[0]
    dims, index = broadcast(ctx, out, lop.inputs)
    ctx.alloc(out, dims)
    with ctx.loops(dims) as idx:
        args = [index(x, idx) for x in lop.inputs]
        ctx.line(f"{ctx.at(out, idx)} = {ctx.scalars.expression(lop.op, args, lop.attrs)}")


def register_scalar_ops():
    """Register every op that has a scalar rule and no rule of its own yet."""
    for op in REGISTRY.values():
        if op.scalar is not None and not CPU.supports(op):
            CPU.register(op)(lower_elementwise)


register_scalar_ops()
