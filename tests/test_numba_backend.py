"""The numba backend's own rules: run-time errors are the reference's, a failed run
changes no variable, missing lowerings and compile failures name the op and node,
dropout draws the reference's masks, and one program serves every batch size.
Small graphs, few programs: every program is a Numba compile."""

import numpy as np
import pytest

import graphdl as gd
from graphdl.backends.lowering import LoweringError, LoweringTable
from graphdl.ops.base import OpDef, apply, register
from graphdl.ops.elementwise import _Elementwise


def _both(fetches, feeds, graph=None, seed=0):
    """(numba result, reference result) of one run."""
    return [gd.Session(graph, backend=b, seed=seed).run(fetches, feeds)
            for b in ("numba", "numpy")]


def _errors(fetch, feeds, sess_numba, sess_ref):
    caught = []
    for sess in (sess_numba, sess_ref):
        with pytest.raises(gd.GraphError) as info:
            sess.run(fetch, feeds)
        caught.append(info.value)
    return caught


def test_run_time_errors_are_the_references_and_change_no_variable():
    x = gd.placeholder((None, 3), "float32", name="x")
    b = gd.placeholder((None, 3), "float32", name="b")
    labels = gd.placeholder((None,), "int64", name="labels")
    v = gd.Variable(np.zeros(3, "float32"), name="v")
    loss = gd.mean(gd.sparse_softmax_cross_entropy(x + b, labels), name="loss")
    step = v.assign_add(gd.sum(x + b, axis=0) + loss, name="step")
    sessions = gd.Session(backend="numba"), gd.Session(backend="numpy")
    ok = {x: np.ones((2, 3)), b: np.ones((2, 3)), labels: np.array([0, 2])}
    got = [s.run(step, ok) for s in sessions]
    np.testing.assert_allclose(got[0], got[1], rtol=1e-6)
    before = [s.run(v) for s in sessions]
    # a None dim that does not fit, and a label out of range
    for bad in ({**ok, b: np.ones((4, 3))}, {**ok, labels: np.array([0, 7])}):
        numba_err, ref_err = _errors(step, bad, *sessions)
        assert type(numba_err) is type(ref_err)
        assert str(numba_err) == str(ref_err)
        for s, old in zip(sessions, before):
            np.testing.assert_array_equal(s.run(v), old)  # the failed run changed nothing


def test_one_program_serves_every_batch_size():
    x = gd.placeholder((None, 4), "float64", name="x")
    y = gd.softmax(x @ gd.constant(np.arange(8.0).reshape(4, 2) / 8)) * 2.0
    sess = gd.Session(backend="numba")
    for n in (1, 5, 64, 0):
        data = np.random.default_rng(n).standard_normal((n, 4))
        np.testing.assert_allclose(sess.run(y, {x: data}),
                                   gd.Session(backend="numpy").run(y, {x: data}), rtol=1e-12)
    assert len(sess._programs) == 1


def test_dropout_masks_equal_the_reference_draws_and_updates_commit_after_the_run():
    x = gd.placeholder((None, 50), "float32", name="x")
    w = gd.Variable(np.full(50, 0.5, "float32"), name="w")
    y = gd.dropout(x * w, 0.3)
    upd = w.assign(x[0] * 2.0)  # an update Value computed in the run
    copy_w = gd.Variable(np.zeros(50, "float32"), name="copy")
    alias = copy_w.assign(w)     # an update that is a parameter: must be copied
    feeds = {x: np.ones((3, 50), "float32")}
    results = []
    for backend in ("numba", "numpy"):
        sess = gd.Session(backend=backend, seed=3)
        runs = [sess.run([y, alias], feeds) for _ in range(2)]
        sess.run(upd, feeds)
        results.append((runs, sess.run([w, copy_w])))
    (runs_n, vars_n), (runs_r, vars_r) = results
    for (yn, an), (yr, ar) in zip(runs_n, runs_r):
        np.testing.assert_array_equal(yn, yr)
        np.testing.assert_array_equal(an, ar)
    for a, b in zip(vars_n, vars_r):
        np.testing.assert_array_equal(a, b)


class _Twice(_Elementwise):
    """An elementwise op whose scalar function Numba cannot type."""

    name = "test_numba_untypable"

    def forward(self, x):
        return x * 2

    @staticmethod
    def scalar(x):
        return [x, x]  # a list: not a scalar


class _NoLowering(OpDef):
    name = "test_numba_no_lowering"

    def infer(self, x):
        return [(x.shape, x.dtype)]

    def forward(self, x):
        return x


def test_missing_lowerings_and_compile_errors_name_the_op_and_node():
    untypable, plain = register(_Twice()), register(_NoLowering())
    try:
        x = gd.placeholder((2,), "float64", name="x")
        y = apply(plain, [x], name="mystery")
        with pytest.raises(LoweringError, match="no lowering for op 'test_numba_no_lowering'"
                           ".*node 'mystery'"):
            gd.Session(backend="numba").run(y, {x: np.ones(2)})
        z = apply(untypable, [x], name="listy")
        with pytest.raises(LoweringError, match="op 'test_numba_untypable' \\(node 'listy'\\)"):
            gd.Session(backend="numba").run(z, {x: np.ones(2)})
    finally:
        from graphdl.ops.base import REGISTRY  # noqa: PLC0415
        REGISTRY.pop(untypable.name)
        REGISTRY.pop(plain.name)


def test_lowering_table_keys_are_opdefs_with_per_target_overrides():
    from graphdl.backends.numba_cpu.kernels import table  # noqa: PLC0415
    from graphdl.ops.linalg import MATMUL  # noqa: PLC0415
    cpu = table()
    assert cpu.supports(MATMUL) and not cpu.supports(_NoLowering())
    child = LoweringTable("numba-special", parent=cpu)
    assert child.supports(MATMUL) and child.rule(MATMUL) is cpu.rule(MATMUL)

    @child.register(MATMUL)
    def special(ctx, lop):
        pass
    assert child.rule(MATMUL) is special and cpu.rule(MATMUL) is not special
    with pytest.raises(TypeError):
        child.register("matmul")


def test_auto_interprets_first_and_switches_to_native_code(monkeypatch):
    monkeypatch.delenv("GRAPHDL_BACKEND", raising=False)
    x = gd.placeholder((None, 3), "float32", name="x")
    w = gd.Variable(np.ones(3, "float32"), name="w")
    step = w.assign_add(gd.sum(x, axis=0))
    sess = gd.Session()  # the default backend
    assert sess.backend.name == "auto"
    feeds = {x: np.ones((2, 3), "float32")}
    sess.run(step, feeds)
    prog = next(iter(sess._programs.values()))[1]
    assert prog.native is None and prog._thread is None  # run once: interpreted only
    sess.run(step, feeds)             # run twice: compiling in the background
    assert prog.wait() and prog.error is None
    got = sess.run(step, feeds)       # now native
    np.testing.assert_array_equal(got, np.full(3, 7.0, "float32"))
    np.testing.assert_array_equal(sess.run(w), np.full(3, 7.0, "float32"))
    assert prog.runs == 3


def test_auto_leaves_a_program_too_large_to_compile_quickly_to_the_interpreter(
        monkeypatch):
    """A huge program takes minutes to compile (about 0.45 s of CPU per 1,000
    characters): auto keeps interpreting what is over its size limit."""
    monkeypatch.delenv("GRAPHDL_BACKEND", raising=False)
    monkeypatch.setenv("GRAPHDL_AUTO_MAX_SOURCE", "100")
    x = gd.placeholder((None, 3), "float32", name="x")
    w = gd.Variable(np.ones(3, "float32"), name="w")
    step = w.assign_add(gd.sum(gd.tanh(x), axis=0))
    sess = gd.Session()
    feeds = {x: np.zeros((2, 3), "float32")}
    sess.run(step, feeds)
    with pytest.warns(UserWarning, match="generated source is .* over the 100"):
        sess.run(step, feeds)
        prog = next(iter(sess._programs.values()))[1]
        assert not prog.wait()
    assert prog.native is None
    np.testing.assert_array_equal(sess.run(step, feeds), np.ones(3, "float32"))


def test_a_large_folded_constant_is_passed_as_an_argument():
    """Found by the differential fuzzer: a constant the fold pass turns into a
    "constant" parameter (over 1 KiB) was taken for a variable (IndexError)."""
    x = gd.placeholder((1, 2, 5, 7), "float64", name="x")
    c = gd.constant(np.linspace(0, 1, 4 * 2 * 5 * 7).reshape(4, 2, 5, 7))
    out = gd.concat([gd.tanh(x), gd.tanh(c)], axis=0)
    feeds = {x: np.full((1, 2, 5, 7), 0.5)}
    want = gd.Session(backend="numpy").run(out, feeds)
    np.testing.assert_allclose(gd.Session(backend="numba").run(out, feeds), want, rtol=1e-12)


@pytest.mark.parametrize("view", ["getitem", "reshape", "transpose"])
def test_fetched_views_of_a_variable_are_the_callers_own(view):
    """Numba returns views of its inputs with a MemInfo as base, invisible to the
    Session's alias guard: writing into a fetched W[0] changed W (found by running the
    shared state suite with GRAPHDL_TEST_BACKENDS=numba)."""
    w = gd.Variable(np.arange(6.0).reshape(2, 3), name="W")
    fetch = {"getitem": w[0], "reshape": gd.reshape(w, (-1,)), "transpose": gd.transpose(w)}
    sess = gd.Session(backend="numba")
    got, again = sess.run([fetch[view], fetch[view]])
    got[...] = -1.0
    assert not np.shares_memory(got, again)
    np.testing.assert_array_equal(sess.run(w), np.arange(6.0).reshape(2, 3))
