"""Random programs through the whole pipeline (hypothesis): elementwise chains with
broadcasting, constants (ones, zeros, -0.0), reductions, matmuls of transposes,
reshapes, softmax/sigmoid logs, and their gradients — the optimized program computes
what the reference Session computes, with the static and with an unknown batch dim."""

import numpy as np
from hypothesis import assume, given, settings
from hypothesis import strategies as st

import graphdl as gd
from graphdl.passes import optimize
from graphdl.passes.interpret import evaluate

from .passcheck import args_for, program
from .test_passes_fuse import partition_ok

SHAPES = [(3, 4), (4,), (1, 4), (3, 1), ()]
UNARY = [gd.tanh, gd.sigmoid, gd.negative, gd.abs, gd.relu, gd.softplus,
         lambda t: gd.exp(gd.tanh(t)), lambda t: gd.log(gd.sigmoid(t)),
         lambda t: gd.log(1.0 - gd.sigmoid(t)), lambda t: t * 1.0, lambda t: t - 0.0,
         lambda t: t + 0.0, lambda t: gd.negative(gd.negative(t))]
BINARY = [gd.add, gd.subtract, gd.multiply, gd.maximum, gd.minimum,
          lambda a, b: gd.where(a > b, a, b * 2.0)]


def _grow(data, values):
    """Add one random op on existing values; returns the new value (or None)."""
    kind = data.draw(st.sampled_from(["unary", "binary", "binary", "reduce", "matmul",
                                      "reshape", "softmax", "const"]))
    pick = lambda: values[data.draw(st.integers(0, len(values) - 1))]  # noqa: E731
    x = pick()
    if kind == "unary":
        return data.draw(st.sampled_from(UNARY))(x)
    if kind == "binary":
        return data.draw(st.sampled_from(BINARY))(x, pick())
    if kind == "const":
        value = data.draw(st.sampled_from([1.0, 0.0, -0.0, 2.0]))
        shape = data.draw(st.sampled_from(SHAPES))
        return x * gd.constant(np.full(shape, value, x.dtype))
    if kind == "reduce" and x.ndim:
        fn = data.draw(st.sampled_from([gd.sum, gd.mean, gd.max]))
        return fn(x, axis=data.draw(st.integers(0, x.ndim - 1)),
                  keepdims=data.draw(st.booleans()))
    if kind == "matmul" and x.ndim == 2 and x.shape[1] == 4:
        w = gd.transpose(gd.reshape(gd.tanh(pick() * 1.0 + gd.constant(
            np.zeros((3, 4), x.dtype))), (3, 4)))            # (4, 3)
        return gd.transpose(x @ w)
    if kind == "reshape" and x.shape == (3, 4):
        return gd.reshape(gd.reshape(x, (4, 3)), (3, 4))
    if kind == "softmax" and x.ndim:
        return gd.log(gd.softmax(x, axis=-1))
    return None


@settings(max_examples=60, deadline=None)
@given(st.data(), st.booleans())
def test_random_programs_keep_their_values(data, batch_none):
    rng = np.random.default_rng(data.draw(st.integers(0, 2**16)))
    g = gd.Graph(seed=0)
    with g.as_default():
        phs, feeds = [], {}
        for i, shape in enumerate(data.draw(st.lists(st.sampled_from(SHAPES), min_size=1,
                                                     max_size=3))):
            static = ((None,) + shape[1:]) if batch_none and len(shape) == 2 else shape
            p = gd.placeholder(static, "float64", name=f"p{i}")
            phs.append(p)
            feeds[p] = rng.uniform(-2, 2, shape)
        values = list(phs)
        for _ in range(data.draw(st.integers(1, 12))):
            try:
                out = _grow(data, values)
            except gd.ShapeError:
                continue
            if out is not None:
                values.append(out)
        outs = values[len(phs):] or [phs[0] * 2.0]
        fetched = outs[-data.draw(st.integers(1, len(outs))):]
        loss = gd.sum(fetched[-1])
        grads = [t for t in gd.gradients(loss, phs) if t is not None]
        fetches = fetched + grads
        lp = optimize(program(fetches, feeds))
        partition_ok(lp)
        sess = gd.Session(g, seed=0)
        try:
            want = sess.run(fetches, feeds)
        except gd.ShapeError:  # a None dim that does not fit at run time: not a program
            assume(False)
        got, _ = evaluate(lp, args_for(lp, feeds, sess))
        for a, b, t in zip(got, want, fetches):
            assert np.shape(a) == np.shape(b), t
            np.testing.assert_allclose(a, b, rtol=1e-9, atol=1e-9, err_msg=t.name)
