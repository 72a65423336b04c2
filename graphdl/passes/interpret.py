"""Evaluate a LoweredProgram with each op's NumPy ``forward``.

Not a backend: a check that a pass keeps a program's meaning. Tests run a
program before and after a rewrite and compare fetches and updates.
"""

import numpy as np


def evaluate(lp, args, rng=None):
    """``args``: one array per ``lp.params``. Returns ``(fetches, {Variable: value})``."""
    env = dict(zip(lp.params, args))
    for lop in lp.ops:
        arrays = [env[v] for v in lop.inputs]
        if lop.op.stateful:  # randomness: the reference rule, drawing from rng
            out = lop.op.compute(_Ctx(rng), _NodeView(lop), arrays)
        else:
            out = lop.op.forward(*arrays, **lop.attrs)
        outs = out if len(lop.outputs) > 1 else (out,)
        for v, a in zip(lop.outputs, outs):
            env[v] = np.asarray(a, dtype=v.dtype)
    fetches = [None if v is None else env[v] for v in lp.fetches]
    return fetches, {var: env[v] for var, v in lp.updates}


class _Ctx:
    def __init__(self, rng):
        self.rng = rng if rng is not None else np.random.default_rng(0)


class _NodeView:
    """What ``OpDef.compute`` reads of a node: attrs, inputs and outputs."""

    def __init__(self, lop):
        self.attrs = lop.attrs
        self.inputs = lop.inputs
        self.outputs = lop.outputs
        self.name = lop.origin.name if lop.origin is not None else lop.op.name
