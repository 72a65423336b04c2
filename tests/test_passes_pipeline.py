"""The whole PIPELINE on every op of the op table (forward, first- and second-order
gradients, known and unknown batch dimension): the optimized lowered program computes
what the reference Session computes, and its kernels partition it."""

import numpy as np
import pytest

import graphdl as gd
from graphdl.passes import optimize
from graphdl.passes.interpret import evaluate

from .optable import all_opinfos
from .passcheck import args_for, program
from .test_passes_fuse import partition_ok

OPINFOS = all_opinfos()


def _graph(info, arrays, batch_none):
    g = gd.Graph(seed=0)
    with g.as_default():
        phs = [gd.placeholder(((None,) + a.shape[1:]) if batch_none and a.ndim else a.shape,
                              a.dtype, name=f"in{i}") for i, a in enumerate(arrays)]
        try:
            out = info.build(*phs)
        except gd.ShapeError:
            return None
        fetches = [out]
        floats = [p for p in phs if p.dtype.kind == "f"]
        if info.grad and floats:
            u = gd.constant(np.random.default_rng(5).standard_normal(
                np.shape(info.reference(*arrays))))
            grads = gd.gradients(gd.sum(out * u), floats)
            fetches += [t for t in grads if t is not None]
            if info.second_order and fetches[1:]:
                second = gd.gradients(gd.sum(fetches[1] * fetches[1]), floats)
                fetches += [t for t in second if t is not None]
    return g, dict(zip(phs, arrays)), fetches


@pytest.mark.parametrize("batch_none", [False, True], ids=["static", "batch_none"])
def test_pipeline_keeps_every_op_tables_values(batch_none):
    rng = np.random.default_rng(4)
    checked = 0
    for info in OPINFOS:
        built = _graph(info, info.samples(rng)[0], batch_none)
        if built is None:
            continue
        g, feeds, fetches = built
        with g.as_default():
            lp = optimize(program(fetches, feeds))
        partition_ok(lp)
        sess = gd.Session(g, seed=0)
        want = sess.run(fetches, feeds)
        got, _ = evaluate(lp, args_for(lp, feeds, sess), np.random.default_rng(0))
        for a, b in zip(got, want):
            assert np.shape(a) == np.shape(b), info.name
            np.testing.assert_allclose(a, b, rtol=1e-9, atol=1e-9, err_msg=info.name)
        checked += 1
    assert checked > 40
