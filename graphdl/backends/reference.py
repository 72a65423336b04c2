"""The NumPy reference backend: the executable definition of every op.

It interprets a Program node by node with each op's ``forward`` and checks
every result against the node's static shape and dtype, so a wrong shape rule
or reference implementation fails loudly here rather than silently later.
Exactness and readability matter here, not speed.
"""

import numpy as np

from ..errors import GraphError
from ..graph import Tensor
from ..shapes import compatible, fmt
from . import register_backend
from .base import Backend


class ReferenceBackend(Backend):
    name = "numpy"

    def compile(self, program):
        def run(ctx, feeds):
            values = dict(feeds)
            for node in program.nodes:
                if node.outputs and all(o in values for o in node.outputs):
                    continue
                outs = node.op.compute(ctx, node, [values[t] for t in node.inputs])
                if len(node.outputs) == 1:
                    outs = (outs,)
                for tensor, value in zip(node.outputs, outs):
                    values[tensor] = _checked(node, tensor, value)
            return [values[f] if isinstance(f, Tensor) else None for f in program.fetches]
        return run


def _checked(node, tensor, value):
    value = np.asarray(value)
    if value.dtype != tensor.dtype:
        value = value.astype(tensor.dtype)
    if not compatible(tensor.shape, value.shape):
        raise GraphError(f"internal: op {node.op.name} ({node.name!r}) produced shape "
                         f"{fmt(value.shape)}, its shape rule says {fmt(tensor.shape)}")
    return value


register_backend("numpy", ReferenceBackend, aliases=("reference",))
