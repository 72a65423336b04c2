"""The NumPy reference backend: the executable definition of every op.

It interprets a Program node by node with each op's ``forward`` and checks
every result against the node's static shape and dtype, so a wrong shape rule
or reference implementation fails loudly here rather than silently later.
Exactness and readability matter here, not speed.

Ops are pure; what touches the session (variables, feeds, randomness) is this
backend's business, decided by the op's flags in :func:`state_rule` — so a new
assignment or random op needs no edit here.
"""

import re

import numpy as np

from ..errors import (
    ExecutionError,
    FeedError,
    GraphError,
    NotInGraphError,
    OutOfMemoryError,
    ShapeError,
)
from ..graph import Tensor
from ..shapes import compatible, fmt
from . import register_backend
from .base import Backend


class ReferenceBackend(Backend):
    name = "numpy"

    def compile(self, program):
        def run(ctx, feeds):
            values = evaluate(program, ctx, feeds)
            return [values[f] if isinstance(f, Tensor) else None for f in program.fetches]
        return run


def evaluate(program, ctx, feeds):
    """Every tensor's value in one run of ``program``: {Tensor: array}.

    Also used by ``Session(check_numerics=True)`` to find the node where a NaN or
    inf first appeared, whatever backend produced the run.
    """
    values = dict(feeds)
    for node in program.nodes:
        if node.outputs and all(o in values for o in node.outputs):
            continue
        outs = _compute(ctx, node, [values[t] for t in node.inputs])
        if len(node.outputs) == 1:
            outs = (outs,)
        for tensor, value in zip(node.outputs, outs):
            values[tensor] = _checked(node, tensor, value)
    return values


# -- state rules: ``rule(ctx, node, arrays)`` for ops that touch the session ------------
def _unfed_placeholder(ctx, node, arrays):
    raise FeedError(f"placeholder {node.name!r} with shape {fmt(node.attrs['shape'])} "
                    f"and dtype {node.attrs['dtype']} must be fed")


def _read_variable(ctx, node, arrays):
    return ctx.read_variable(node.outputs[0])


def _assign(ctx, node, arrays):
    # starts from the stored value (earlier assignments of this run included), not from
    # the snapshot read that is the node's input 0
    var = node.inputs[0]
    new = node.op.forward(ctx.read_variable(var), arrays[1]).astype(var.dtype)
    ctx.write_variable(var, new)
    return new


def _run_group(ctx, node, arrays):
    return ()


def _draw(ctx, node, arrays):
    return node.op.sample(ctx.rng, *arrays, **node.attrs)


def _forward(ctx, node, arrays):
    return node.op.forward(*arrays, **node.attrs)


def state_rule(op):
    """How this backend runs ``op``: by its flags, else its pure ``forward``."""
    if op.source == "feed":
        return _unfed_placeholder
    if op.source == "variable":
        return _read_variable
    if op.updates_variable:
        return _assign
    if op.is_group:
        return _run_group
    if op.random:
        return _draw
    return _forward


def _compute(ctx, node, arrays):
    """Run one op; a failure says which node and which inputs, and what kind it is."""
    try:
        return state_rule(node.op)(ctx, node, arrays)
    except (FeedError, NotInGraphError):
        raise
    except GraphError as exc:  # the op's own run-time check: add where it happened
        if not node.inputs:
            raise
        raise type(exc)(f"{exc} {_where(node, arrays)}") from exc
    except Exception as exc:  # noqa: BLE001 (NumPy's errors become graphdl's, with the node)
        raise run_time_error(node, arrays, exc) from exc


def run_time_error(node, arrays, exc):
    """The GraphError for an exception NumPy raised while running ``node``.

    Memory: OutOfMemoryError with the bytes; shape complaints (dims unknown at build
    time that did not fit): ShapeError; anything else (a bad value, a type NumPy
    refuses): ExecutionError. Every one names the node and its inputs' shapes.
    """
    text = str(exc)
    if isinstance(exc, MemoryError) or "too big" in text:
        shape = getattr(exc, "shape", None)
        dtype = getattr(exc, "dtype", None)
        if shape is None and len(node.outputs) == 1 and None not in node.outputs[0].shape:
            shape, dtype = node.outputs[0].shape, node.outputs[0].dtype
        need = f" needs {_nbytes(shape, dtype):,} bytes for shape {fmt(shape)}" \
            if shape is not None and dtype is not None else ""
        return OutOfMemoryError(f"{node.op.name}: out of memory:{need or ' ' + text} "
                                f"{_where(node, arrays)}")
    if isinstance(exc, (ValueError, IndexError)) and _SHAPE_WORDS.search(text):
        return ShapeError(f"{node.op.name}: the run-time shapes do not fit ({text}) "
                          f"{_where(node, arrays)}")
    return ExecutionError(f"{node.op.name}: failed at run time: {type(exc).__name__}: "
                          f"{text} {_where(node, arrays)}")


_SHAPE_WORDS = re.compile(r"shape|broadcast|dimension|axis|axes|reshape|size|"
                          r"aligned|mismatch", re.I)


def _nbytes(shape, dtype):
    return int(np.prod([int(d) for d in shape], dtype=object)) * np.dtype(dtype).itemsize


def _where(node, arrays):
    inputs = ", ".join(f"{t.name!r} {fmt(t.shape)} given {fmt(np.shape(a))}"
                       for t, a in zip(node.inputs, arrays))
    return f"(node {node.name!r}; inputs: {inputs})"


def _checked(node, tensor, value):
    value = np.asarray(value)
    if value.dtype != tensor.dtype:
        value = value.astype(tensor.dtype)
    if not compatible(tensor.shape, value.shape):
        raise GraphError(f"internal: op {node.op.name} ({node.name!r}) produced shape "
                         f"{fmt(value.shape)}, its shape rule says {fmt(tensor.shape)}")
    return value


register_backend("numpy", ReferenceBackend, aliases=("reference",))
