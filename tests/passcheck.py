"""Helpers for pass tests: lower a program, run passes, compare meanings.

``check(fetches, feeds, passes)`` lowers the program twice, runs ``passes`` on one
copy, evaluates both with ``graphdl.passes.interpret.evaluate`` and compares the
fetches and variable updates with each other AND with a reference Session run.
"""

import numpy as np

import graphdl as gd
from graphdl.passes import lower
from graphdl.passes.interpret import evaluate
from graphdl.program import Program


def program(fetches, feeds=()):
    return Program(list(fetches), sorted(feeds, key=lambda t: (t.node.id, t.index)))


def args_for(lp, feeds, sess):
    out = []
    for v in lp.params:
        if v.kind == "feed":
            out.append(np.asarray(feeds[v.ref], v.dtype))
        elif v.kind == "variable":
            out.append(sess._ctx.read_variable(v.ref))
        else:
            out.append(v.ref)
    return out


def run_passes(lp, passes):
    for p in passes:
        lp = p(lp)
    return lp


def check(fetches, feeds, passes, rtol=1e-6, seed=0):
    """Returns ``(before, after)`` lowered programs after checking they agree."""
    prog = program(fetches, feeds)
    before = lower(prog)
    after = run_passes(lower(prog), passes)
    sess = gd.Session(seed=seed)
    got_before = evaluate(before, args_for(before, feeds, sess), np.random.default_rng(seed))
    got_after = evaluate(after, args_for(after, feeds, sess), np.random.default_rng(seed))
    reference = gd.Session(seed=seed).run(list(fetches), feeds)
    for b, a, r in zip(got_before[0], got_after[0], reference):
        if r is None:
            assert a is None and b is None
            continue
        np.testing.assert_allclose(a, b, rtol=rtol, atol=rtol)
        np.testing.assert_allclose(a, r, rtol=rtol, atol=rtol)
        assert np.asarray(a).shape == np.asarray(r).shape
        assert np.asarray(a).dtype == np.asarray(r).dtype
    assert got_before[1].keys() == got_after[1].keys()
    for var, value in got_after[1].items():
        np.testing.assert_allclose(value, got_before[1][var], rtol=rtol, atol=rtol)
    return before, after


def op_names(lp):
    return [lop.op.name for lop in lp.ops]
