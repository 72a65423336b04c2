"""Generic tests over every op in the op table (tests/optable)."""

import os

import numpy as np
import pytest

import graphdl as gd
from graphdl.backends import available_backends
from graphdl.ops.base import REGISTRY

from .optable import all_opinfos

OPINFOS = all_opinfos()

# -- coverage: every registered op is in the table, or listed here with the reason ----
# Internal ops that gradient rules and builders create (never public). The table
# runs them through their parents' forward, gradient and second-order graphs;
# test_internal_ops_are_reached_through_the_table checks that each one is built there.
COVERED_THROUGH_PARENTS = {
    "avg_pool2d_backprop": "avg_pool2d gradients (optable/conv.py)",
    "broadcast_like": "sum/mean/max gradients (optable/reduction.py)",
    "count": "mean gradients on an unknown batch dim (test_gradient_unknown_batch_dimension)",
    "dropout_mask": "dropout[training=placeholder] (optable/nn.py); random masks in "
                    "tests/test_nn_errors.py",
    "gather_grad": "gather gradients (optable/array.py)",
    "getitem_grad": "getitem gradients (optable/shape.py)",
    "label_one_hot": "sparse_softmax_cross_entropy (optable/nn.py); label checks in "
                     "tests/test_nn_errors.py",
    "labels_like": "softmax/sigmoid cross-entropy on an unknown batch dim; run-time "
                   "mismatch in tests/test_nn_errors.py",
    "max_pool2d_backprop": "max_pool2d gradients (optable/conv.py)",
    "max_pool2d_gather": "max_pool2d_squared second order (optable/conv.py)",
    "reshape_like": "reshape/flatten gradients on an unknown batch dim",
    "split_like": "concat gradients (optable/shape.py)",
    "sum_to_like": "gradients of broadcasting binary ops (optable/elementwise.py _pairs)",
}
# Source and state ops: the generic tests feed placeholders to pure functions, so
# these are tested on their own (the names of the tests that run them).
TESTED_ELSEWHERE = {
    "placeholder": "every test; feeds in tests/test_errors.py",
    "constant": "tests/test_session.py::test_fetch_structures",
    "variable": "tests/test_session.py::test_variables_initialize_on_first_use_and_"
                "assignments_persist, ::test_random_initializers_follow_the_seed",
    "assign": "tests/test_session.py::test_reads_in_a_run_see_the_value_from_the_start_"
              "of_the_run; tests/test_errors.py::test_assign_shape_mismatch",
    "assign_add": "tests/test_session.py::test_variables_initialize_on_first_use_and_"
                  "assignments_persist",
    "assign_sub": "tests/test_session.py::test_group_runs_every_member_and_returns_none",
    "ensure_shape_like": "tests/test_silent_errors.py::test_grad_ys_unknown_dims_are_"
                         "checked_at_run_time",
    "group": "tests/test_session.py::test_group_runs_every_member_and_returns_none",
}


def _cases(filter_fn=lambda info: True):
    return [pytest.param(info, id=info.name) for info in OPINFOS if filter_fn(info)]


def _placeholders(arrays, dtype, batch_none):
    phs = []
    for i, a in enumerate(arrays):
        a_dtype = dtype if a.dtype.kind == "f" else a.dtype
        shape = a.shape
        if batch_none and len(shape) >= 1:
            shape = (None,) + shape[1:]
        phs.append(gd.placeholder(shape, a_dtype, name=f"in{i}"))
    return phs


def _build(info, arrays, batch_none):
    """(graph, placeholders, output, float placeholders) in float64, or None when the
    op refuses an unknown first dimension (ShapeError at build time)."""
    g = gd.Graph(seed=0)
    with g.as_default():
        phs = _placeholders(arrays, "float64", batch_none)
        try:
            out = info.build(*phs)
        except gd.ShapeError:
            return None
    return g, phs, out, [p for p in phs if p.dtype.kind == "f"]


def _run(info, arrays, dtype, batch_none=False):
    g = gd.Graph(seed=0)
    with g.as_default():
        phs = _placeholders(arrays, dtype, batch_none)
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


@pytest.mark.parametrize("info", _cases(lambda i: i.grad))
def test_gradient_unknown_batch_dimension(info):
    """Gradients built on None first dims (reshape_like, count, split_like... read the
    shape at run time) equal those built on static shapes, which the finite-difference
    tests check."""
    rng = np.random.default_rng(5)
    arrays = info.samples(rng)[0]
    u = rng.standard_normal(np.shape(info.reference(*arrays)))
    values = []
    for batch_none in (False, True):
        built = _build(info, arrays, batch_none)
        if built is None:
            pytest.skip("op needs a static first dimension")
        g, phs, out, xs = built
        with g.as_default():
            grads = gd.gradients(gd.sum(out * gd.constant(u)), xs, unconnected="zero")
        values.append(gd.Session(g, seed=0).run(grads, dict(zip(phs, arrays))))
    for static, dynamic in zip(*values):
        np.testing.assert_allclose(dynamic, static, rtol=1e-12, atol=1e-12)


def _table_op_names():
    return {info.name.split("[")[0] for info in OPINFOS}


def test_every_registered_op_has_an_opinfo():
    allowed = set(COVERED_THROUGH_PARENTS) | set(TESTED_ELSEWHERE)
    missing = sorted(set(REGISTRY) - _table_op_names() - allowed)
    assert not missing, f"ops without an OpInfo in tests/optable: {missing}"


def test_allow_lists_are_current():
    """No stale names, and a public op is never only 'covered through its parents'."""
    listed = set(COVERED_THROUGH_PARENTS) | set(TESTED_ELSEWHERE)
    assert not listed - set(REGISTRY), f"not registered: {sorted(listed - set(REGISTRY))}"
    assert not listed & _table_op_names(), "has an OpInfo now: drop it from the allow-list"
    public = [name for name in COVERED_THROUGH_PARENTS if hasattr(gd, name)]
    assert not public, f"public ops need their own OpInfo: {public}"


def _graph_ops(info, arrays, batch_none):
    """Op names in the graphs the table's tests run for ``info`` on these inputs."""
    built = _build(info, arrays, batch_none)
    if built is None:
        return set()
    g, phs, out, xs = built
    with g.as_default():
        if info.grad and xs:
            grads = gd.gradients(gd.sum(out), xs, unconnected="zero")
            if info.second_order and not batch_none:  # as check_gradients(order=2) does
                gd.gradients(sum(gd.sum(gr * gr) for gr in grads), xs, unconnected="zero")
    return {node.op.name for node in g.nodes}


def test_internal_ops_are_reached_through_the_table():
    rng = np.random.default_rng(6)
    reached = set()
    for info in OPINFOS:
        arrays = info.samples(rng)[0]
        reached |= _graph_ops(info, arrays, batch_none=False)
        reached |= _graph_ops(info, arrays, batch_none=True)
    missing = sorted(set(COVERED_THROUGH_PARENTS) - reached)
    assert not missing, f"allow-listed as covered through their parents, never built: {missing}"


# -- every other backend against the reference, batched ---------------------------------
# Compiled backends pay a compile per program, so instead of one program per op and
# sample, each op family's samples go into one graph: one program per (family,
# variant), compared output by output with the reference backend.
def _families():
    from .optable import array, conv, elementwise, linalg, nn, reduction, shape  # noqa: PLC0415
    return {"elementwise": elementwise.OPS, "linalg": linalg.OPS,
            "reduction": reduction.OPS, "shape": shape.OPS, "array": array.OPS,
            "nn": nn.OPS, "conv": conv.OPS}


VARIANTS = ["float64", "float32", "batch_none", "grad", "grad2", "grad_batch_none"]
# Numba compiles cost ~0.1-0.3 s per loop nest: `make test` runs the float64 forward
# pass and the first-order gradients of every op's first sample per family (float32
# added a minute to a 6.6-minute quiet-machine run and was left to test-compiled);
# GRAPHDL_FULL_OPTABLE=1 (`make test-compiled`) runs every variant, every float64
# sample (42 programs, ~45 min of cold compiles on the shared 2-core machine).
FULL = os.environ.get("GRAPHDL_FULL_OPTABLE", "") not in ("", "0")
QUICK_VARIANTS = ["float64", "grad"]
FAMILY_NAMES = ["elementwise", "linalg", "reduction", "shape", "array", "nn", "conv"]


def _batched_graph(infos, variant, rng):
    """(graph, feeds, [(label, tensor)]) holding every sample of ``infos`` for ``variant``."""
    dtype = "float32" if variant == "float32" else "float64"
    batch_none = variant.endswith("batch_none")
    g = gd.Graph(seed=0)
    feeds, outputs = {}, []
    with g.as_default():
        for info in infos:
            if variant == "float32" and not info.float32:
                continue
            if variant.startswith("grad") and not info.grad:
                continue
            if variant == "grad2" and not info.second_order:
                continue
            samples = info.samples(rng)
            if variant != "float64" or not FULL:  # all samples once; variants on the first
                samples = samples[:1]
            for s, arrays in enumerate(samples):
                scope = "".join(c if c.isalnum() else "_" for c in info.name)
                with gd.name_scope(f"{scope}_{s}"):
                    phs = _placeholders(arrays, dtype, batch_none)
                    try:
                        out = info.build(*phs)
                    except gd.ShapeError:
                        continue  # the op needs a static first dimension
                    feeds.update({p: a.astype(p.dtype) for p, a in zip(phs, arrays)})
                    if not variant.startswith("grad"):
                        outputs.append((f"{info.name}[{s}]", out))
                        continue
                    xs = [p for p in phs if p.dtype.kind == "f"]
                    u = gd.constant(rng.standard_normal(np.shape(info.reference(*arrays))))
                    grads = gd.gradients(gd.sum(out * u), xs, unconnected="zero")
                    if variant == "grad2":
                        w = [gd.constant(rng.standard_normal(np.shape(a))) for a in arrays
                             if a.dtype.kind == "f"]
                        second = sum(gd.sum(gr * wi) for gr, wi in zip(grads, w))
                        grads = gd.gradients(second, xs, unconnected="zero")
                    outputs += [(f"d{info.name}[{s}]/d{x.name}", gr)
                                for x, gr in zip(xs, grads)]
    return g, feeds, outputs


def test_backend_families_cover_the_whole_table():
    """The batched backend test runs every OpInfo (the "array" family was once left
    out, so gather, fill and shape never ran on a compiled backend)."""
    fams = _families()
    assert list(fams) == FAMILY_NAMES
    batched = [info.name for name in FAMILY_NAMES for info in fams[name]]
    assert sorted(batched) == sorted(info.name for info in OPINFOS)


# Every usable compiled backend, whatever GRAPHDL_TEST_BACKENDS says: this is the test
# that holds each backend to the reference on the whole op table (QUICK_VARIANTS in
# `make test`: about 5 minutes of cold Numba compiles on the busy 2-core machine,
# seconds with the cache warm; every variant in `make test-compiled`).
COMPILED = [b for b in available_backends() if b != "numpy"]


@pytest.mark.parametrize("variant", VARIANTS if FULL else QUICK_VARIANTS)
@pytest.mark.parametrize("family", FAMILY_NAMES)
@pytest.mark.parametrize("backend", COMPILED)
def test_backend_matches_reference(backend, family, variant):
    """Forward (float64; float32 and an unknown batch dim) and first- and second-order
    gradients of every op in the table, on ``backend``, equal the reference's: one
    program per family and variant."""
    g, feeds, outputs = _batched_graph(_families()[family], variant,
                                       np.random.default_rng(7))
    tensors = [t for _, t in outputs]
    want = gd.Session(g, backend="numpy", seed=0).run(tensors, feeds)
    got = gd.Session(g, backend=backend, seed=0).run(tensors, feeds)
    tol = dict(rtol=2e-5, atol=1e-5) if variant == "float32" else dict(rtol=1e-9, atol=1e-10)
    for (label, _t), w, r in zip(outputs, want, got):
        assert r.dtype == w.dtype and r.shape == w.shape, \
            f"{label}: {r.dtype}{r.shape} vs reference {w.dtype}{w.shape}"
        np.testing.assert_allclose(r, w, err_msg=label, **tol)
