"""The op table on the cuda backend (simulator): forward values and gradient
graphs equal the reference backend's, on the table's own samples."""

import numpy as np
import pytest

import graphdl as gd

from ..optable import all_opinfos

OPINFOS = all_opinfos()
#: ops the cuda backend does not lower (none now); a program using one raises a
#: clear GraphError, which is what the test checks for them
NOT_LOWERED = set()


def _uses(info, names):
    rng = np.random.default_rng(0)
    g, _, _ = _graph(info, info.samples(rng)[0], "float64")
    return {n.op.name for n in g.nodes} & names


def _graph(info, arrays, dtype, grad=True):
    g = gd.Graph(seed=0)
    with g.as_default():
        phs = [gd.placeholder(a.shape, dtype if a.dtype.kind == "f" else a.dtype,
                              name=f"in{i}") for i, a in enumerate(arrays)]
        out = info.build(*phs)
        fetches = [out]
        xs = [p for p in phs if p.dtype.kind == "f"]
        if grad and info.grad and xs:
            u = gd.constant(np.linspace(-1, 1, int(np.prod(out.shape))).reshape(out.shape)
                            .astype(out.dtype))
            fetches += gd.gradients(gd.sum(out * u), xs, unconnected="zero")
    feeds = {p: a.astype(p.dtype) for p, a in zip(phs, arrays)}
    return g, fetches, feeds


@pytest.mark.parametrize("info", [pytest.param(i, id=i.name) for i in OPINFOS])
def test_op_matches_reference(info):
    missing = _uses(info, NOT_LOWERED)
    if missing:
        g, fetches, feeds = _graph(info, info.samples(np.random.default_rng(0))[0],
                                   "float64")
        with pytest.raises(gd.GraphError, match="cuda backend has no lowering for op"):
            gd.Session(g, backend="cuda", seed=0).run(fetches, feeds)
        return
    rng = np.random.default_rng(0)
    arrays = info.samples(rng)[0]
    # float64: forward and gradients; float32: the forward pass (the same kernels
    # rendered for another dtype; kept short, the simulator is slow)
    for dtype, rtol, atol in (("float64", 1e-9, 1e-12), ("float32", 2e-4, 1e-5)):
        if dtype == "float32" and not info.float32:
            continue
        g, fetches, feeds = _graph(info, arrays, dtype, grad=dtype == "float64")
        want = gd.Session(g, seed=0).run(fetches, feeds)
        got = gd.Session(g, backend="cuda", seed=0).run(fetches, feeds)
        for w, c in zip(want, got):
            assert c.dtype == w.dtype and c.shape == w.shape
            np.testing.assert_allclose(c, w, rtol=rtol, atol=atol, err_msg=info.name)
