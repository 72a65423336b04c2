"""Generic tests over every op in the op table (tests/optable)."""

import numpy as np
import pytest

import graphdl as gd

from .optable import all_opinfos

OPINFOS = all_opinfos()


def _cases(filter_fn=lambda info: True):
    return [pytest.param(info, id=info.name) for info in OPINFOS if filter_fn(info)]


def _run(info, arrays, dtype, batch_none=False):
    g = gd.Graph(seed=0)
    with g.as_default():
        phs = []
        for i, a in enumerate(arrays):
            a_dtype = dtype if a.dtype.kind == "f" else a.dtype
            shape = a.shape
            if batch_none and len(shape) >= 1:
                shape = (None,) + shape[1:]
            phs.append(gd.placeholder(shape, a_dtype, name=f"in{i}"))
        out = info.build(*phs)
    feeds = {p: a.astype(p.dtype) for p, a in zip(phs, arrays)}
    return out, gd.Session(g, seed=0).run(out, feeds)


@pytest.mark.parametrize("info", _cases())
def test_forward_matches_numpy_float64(info):
    rng = np.random.default_rng(0)
    for arrays in info.samples(rng):
        out, got = _run(info, arrays, "float64")
        want = np.asarray(info.reference(*arrays))
        assert out.shape == tuple(want.shape), f"static shape {out.shape} vs {want.shape}"
        np.testing.assert_allclose(got, want, rtol=info.rtol, atol=info.atol)


@pytest.mark.parametrize("info", _cases(lambda i: i.float32))
def test_forward_float32(info):
    rng = np.random.default_rng(1)
    for arrays in info.samples(rng):
        out, got = _run(info, arrays, "float32")
        want = np.asarray(info.reference(*[a.astype(np.float32) if a.dtype.kind == "f"
                                           else a for a in arrays]))
        assert got.dtype == out.dtype
        np.testing.assert_allclose(got, want, rtol=2e-5, atol=1e-5)


@pytest.mark.parametrize("info", _cases())
def test_unknown_batch_dimension(info):
    """The same op built with None as its first dims runs and gives the same values."""
    rng = np.random.default_rng(2)
    arrays = info.samples(rng)[0]
    try:
        _, got = _run(info, arrays, "float64", batch_none=True)
    except gd.ShapeError:
        pytest.skip("op needs a static first dimension")
    np.testing.assert_allclose(got, info.reference(*arrays), rtol=info.rtol, atol=info.atol)


@pytest.mark.parametrize("info", _cases(lambda i: i.grad))
def test_gradient_first_order(info):
    rng = np.random.default_rng(3)
    for arrays in info.samples(rng):
        gd.check_gradients(info.build, arrays, order=1)


@pytest.mark.parametrize("info", _cases(lambda i: i.grad and i.second_order))
def test_gradient_second_order(info):
    rng = np.random.default_rng(4)
    for arrays in info.samples(rng)[:2]:
        gd.check_gradients(info.build, arrays, order=2)
