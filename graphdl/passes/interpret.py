"""Evaluate a LoweredProgram with each op's NumPy ``forward``.

Not a backend: a check that a pass keeps a program's meaning. Tests run a
program before and after a rewrite and compare fetches and updates.
"""

import numpy as np


def evaluate(lp, args, rng=None):
    """``args``: one array per ``lp.params``. Returns ``(fetches, {Variable: value})``."""
    rng = rng if rng is not None else np.random.default_rng(0)
    env = dict(zip(lp.params, args))
    for lop in lp.ops:
        arrays = [env[v] for v in lop.inputs]
        if lop.op.random:  # the only effect left once lowered: drawn in program order
            out = lop.op.sample(rng, *arrays, **lop.attrs)
        else:
            out = lop.op.forward(*arrays, **lop.attrs)
        outs = out if len(lop.outputs) > 1 else (out,)
        for v, a in zip(lop.outputs, outs):
            env[v] = np.asarray(a, dtype=v.dtype)
    fetches = [None if v is None else env[v] for v in lp.fetches]
    return fetches, {var: env[v] for var, v in lp.updates}
