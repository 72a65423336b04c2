"""Differential fuzzing: random well-typed graphs give the same values and gradients on
every registered backend as on the reference (also when the inputs' first dimension
is unknown, None, at build time), and the reference's gradients match central
differences in float64 (an independent oracle).

``make test`` runs a small, derandomized sample; ``make fuzz`` runs
``GRAPHDL_FUZZ_EXAMPLES`` (default there: 1000) random graphs. A failure prints the
shrunk recipe: add it to tests/regressions/fuzz_cases.py.
"""

import os

import numpy as np
import pytest
from hypothesis import HealthCheck, assume, given, settings

import graphdl as gd
from graphdl.backends import available_backends

from .fuzz.recipes import build, input_data, recipes
from .regressions.fuzz_cases import CASES

EXAMPLES = int(os.environ.get("GRAPHDL_FUZZ_EXAMPLES", "30"))
BACKENDS = [b for b in os.environ.get("GRAPHDL_TEST_BACKENDS", "").split(",") if b] \
    or available_backends()


def _evaluate(recipe, backend, dtype, batch_none=False):
    """[output, [gradient per input]] of ``recipe``; ``batch_none``: the inputs' first
    dimension is unknown (None) at build time (None when the recipe cannot be built so)."""
    graph = gd.Graph(seed=0)
    with graph.as_default():
        xs = [gd.placeholder((None, *s[1:]) if batch_none else s, dtype, name=f"x{i}")
              for i, s in enumerate(recipe["inputs"])]
        try:
            out = build(recipe, xs)
        except gd.GraphError:
            if batch_none:
                return None  # e.g. a constant shaped by a dimension that is now unknown
            raise
        if batch_none and None in out.shape:
            return None
        u = np.random.default_rng(7).uniform(0.5, 1.5, out.shape).astype(dtype)
        grads = gd.gradients(gd.sum(out * gd.constant(u)), xs, unconnected="zero")
    feeds = {x: input_data(s, i).astype(dtype) for i, (x, s) in
             enumerate(zip(xs, recipe["inputs"]))}
    with np.errstate(all="ignore"):
        return gd.Session(graph, backend=backend).run([out, grads], feeds)


def _close(got, want, rtol, what):
    scale = max(1.0, float(np.max(np.abs(want))) if np.size(want) else 1.0)
    np.testing.assert_allclose(got, want, rtol=rtol, atol=rtol * scale, err_msg=what)


def check_recipe(recipe, finite_differences=True):
    """Every backend agrees with the reference (float64 and float32); the reference's
    gradients agree with central differences. Non-finite or huge graphs are skipped."""
    out, grads = _evaluate(recipe, "numpy", "float64")
    arrays = [out, *grads]
    assume(all(np.all(np.isfinite(a)) for a in arrays))
    assume(all(np.max(np.abs(a), initial=0.0) < 1e6 for a in arrays))
    ref32 = _evaluate(recipe, "numpy", "float32")
    for backend in BACKENDS:
        if backend == "numpy":
            continue
        got = _evaluate(recipe, backend, "float64")
        _close(got[0], out, 1e-9, f"{backend} forward (float64)")
        for i, (g, w) in enumerate(zip(got[1], grads)):
            _close(g, w, 1e-8, f"{backend} gradient of input {i} (float64)")
        got32 = _evaluate(recipe, backend, "float32")
        _close(got32[0], ref32[0], 2e-4, f"{backend} forward (float32)")
        for i, (g, w) in enumerate(zip(got32[1], ref32[1])):
            _close(g, w, 2e-3, f"{backend} gradient of input {i} (float32)")
    _close(ref32[0], out, 1e-3, "reference float32 vs float64 forward")
    for backend in BACKENDS:  # the same graph built with an unknown batch dimension
        unknown = _evaluate(recipe, backend, "float64", batch_none=True)
        if unknown is not None:
            _close(unknown[0], out, 1e-9, f"{backend} forward with batch None")
            for i, (g, w) in enumerate(zip(unknown[1], grads)):
                _close(g, w, 1e-8, f"{backend} gradient of input {i} with batch None")
    if finite_differences:
        try:
            gd.check_gradients(lambda *xs: build(recipe, xs),
                               [input_data(s, i) for i, s in enumerate(recipe["inputs"])],
                               n_directions=2)
        except gd.GradientCheckError as exc:
            assume("kink" not in str(exc))  # an input on relu/abs/max's kink: not a bug
            raise


@settings(max_examples=EXAMPLES, deadline=None, derandomize=EXAMPLES <= 100,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much,
                                 HealthCheck.data_too_large])
@given(recipes())
def test_random_graphs_agree_across_backends_and_with_finite_differences(recipe):
    check_recipe(recipe)


@pytest.mark.parametrize("recipe", CASES, ids=[f"case{i}" for i in range(len(CASES))])
def test_fuzz_regressions(recipe):
    check_recipe(recipe)
