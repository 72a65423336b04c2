"""Constant folding through ``forward``, and large constants made parameters.

* An op whose inputs are all constants is evaluated now with its NumPy ``forward`` (the
  reference, so the value is the one a run would compute) when its result is small
  (``FOLD_MAX_ELEMENTS``): compile time stays bounded and the result is embedded.
  An op that raises here (say a label out of range) is left to raise at run time.
  Random ops are never folded.
* Then every constant of more than ``INLINE_MAX_BYTES`` becomes a ``"constant"``
  parameter (``Value.ref`` is the read-only ndarray): generated code receives it as an
  argument instead of embedding it, so it stays small and cacheable (Numba embeds
  array constants of up to 1e6 bytes and silently stops caching above), and programs
  differing only in a big constant's values share compiled code.
"""

import numpy as np

from ..ops.sources import CONSTANT, FrozenArray
from .ir import LOp, Value

#: fold an op only when its outputs have at most this many elements in all
FOLD_MAX_ELEMENTS = 4096
#: constants larger than this many bytes are passed as parameters, not embedded
INLINE_MAX_BYTES = 1024


def run(lp):
    """``lp`` with constant subexpressions folded and big constants as parameters."""
    mapping = {}
    constant_of = {}  # Value -> ndarray, for values produced by constants
    ops = []
    for lop in lp.ops:
        if mapping:
            lop.inputs = tuple(mapping.get(v, v) for v in lop.inputs)
        if lop.op is CONSTANT:
            constant_of[lop.outputs[0]] = lop.attrs["value"].array
            ops.append(lop)
            continue
        folded = _fold(lop, constant_of)
        if folded is None:
            ops.append(lop)
            continue
        for out, value in zip(lop.outputs, folded):
            const = LOp(CONSTANT, [], {"value": FrozenArray(value)}, [(out.shape, out.dtype)],
                        lop.origin, [out.source])
            ops.append(const)
            constant_of[const.outputs[0]] = const.attrs["value"].array
            mapping[out] = const.outputs[0]
    lp.ops = ops
    lp.substitute(mapping)
    _big_constants_as_params(lp)
    return lp


def _fold(lop, constant_of):
    """The output arrays of ``lop`` if it can and should be folded, else None."""
    op = lop.op
    if op.stateful or not lop.inputs or not all(v in constant_of for v in lop.inputs):
        return None
    sizes = [o.shape for o in lop.outputs]
    if any(None in s for s in sizes) or sum(int(np.prod(s)) for s in sizes) > FOLD_MAX_ELEMENTS:
        return None
    try:
        with np.errstate(all="ignore"):
            out = op.forward(*[constant_of[v] for v in lop.inputs], **lop.attrs)
    except Exception:  # noqa: BLE001 (whatever it is, the run raises it, naming the node)
        return None
    outs = out if len(lop.outputs) > 1 else (out,)
    arrays = [np.asarray(a, dtype=o.dtype) for a, o in zip(outs, lop.outputs)]
    if any(a.shape != o.shape for a, o in zip(arrays, lop.outputs)):
        return None  # a wrong shape is the reference's to report
    return arrays


def _big_constants_as_params(lp):
    read = {v for lop in lp.ops for v in lop.inputs} | set(lp.live_values())
    mapping, ops = {}, []
    for lop in lp.ops:
        value = lop.attrs["value"] if lop.op is CONSTANT else None
        if value is None or value.nbytes <= INLINE_MAX_BYTES:
            ops.append(lop)
            continue
        if lop.outputs[0] not in read:
            continue  # folded away: no parameter for it
        out = lop.outputs[0]
        param = Value(out.shape, out.dtype, kind="constant", ref=value.array, source=out.source)
        lp.params.append(param)
        mapping[out] = param
    lp.ops = ops
    lp.substitute(mapping)
