"""Huge programs are split into segments (numba_cpu/split.py): each segment is its own
compiled function, the entry calls them in order, and nothing else changes — same
values as the reference (forward, gradients, updates), errors, the on-disk cache.

The tests lower the split threshold so that small unrolled RNNs (cheap to compile)
are cut into several segments."""

import ast
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import graphdl as gd
from graphdl.backends.lowering import LoweringError
from graphdl.backends.numba_cpu import split as splitting
from graphdl.ops.base import REGISTRY, apply, register
from graphdl.ops.elementwise import _Elementwise

ROOT = Path(__file__).resolve().parent.parent
L = gd.nn


@pytest.fixture
def small_segments(monkeypatch):
    """Split every program over 2,000 characters into segments of about 4,000."""
    monkeypatch.setattr(splitting, "SPLIT_ABOVE", 2000)
    monkeypatch.setattr(splitting, "SEGMENT_SIZE", 4000)


def _data(steps, n=16, seed=0):
    rng = np.random.default_rng(seed)
    x = rng.uniform(-1, 1, (n, steps, 2)).astype("float32")
    return x, (x[:, 0, 0] > 0).astype("int64")


def test_a_small_program_is_one_function():
    x = gd.placeholder((None, 3), "float32", name="x")
    w = gd.Variable(np.ones((3, 2), "float32"), name="w")
    program = gd.compile(gd.matmul(x, w), [x])
    assert "SEGMENTS" not in program.source
    assert program.source.count("def ") == 1


def test_the_split_passes_exactly_the_live_values():
    body = ["    a = p0 + 1", "    b = a * 2", "    c = b + p1",
            "    for i in range(3):", "        c = c + a", "    return (c, )"]
    functions, entry, line_map = splitting.split(body, [1, 2, 3, 4], ["p0", "p1"],
                                                 segment_size=1)
    text = "\n".join(functions)
    assert "def segment0(p0):" in text and "return (a, )" in text
    assert "def segment1(a):" in text and "return (b, )" in text
    assert "def segment2(b, p1):" in text and "return (c, )" in text
    assert "def segment3(a, c):" in text  # the loop reads a (segment 0) and c
    assert entry[:4] == ["    (a, ) = segment0(p0)", "    (b, ) = segment1(a)",
                         "    (c, ) = segment2(b, p1)", "    (c, ) = segment3(a, c)"]
    assert sorted(line_map) == [1, 2, 3, 4, 5]  # every statement line moved somewhere
    ast.parse(text + "\ndef program(p0, p1):\n" + "\n".join(entry))


def test_a_body_that_does_not_cut_stays_whole():
    body = ["    a = p0 + 1", "    return (a, )"]
    assert splitting.split(body, [1], ["p0"], segment_size=1) is None


def test_split_gradients_match_the_reference(small_segments):
    model = L.Sequential([L.SimpleRNN(3), L.Dense(2, activation="softmax")], name="m", seed=0)
    model.compile("sgd", "sparse_categorical_crossentropy", backend="numpy")
    x, y = _data(3, n=4)
    model.evaluate(x, y)  # builds the loss
    variables = model.trainable_variables
    with model.graph.as_default():
        grads = gd.gradients(model.loss, variables)
    feeds = {model.input: x, model._train["labels"]: y, model.training: True}  # noqa: SLF001
    results = {}
    for backend in ("numpy", "numba"):
        sess = gd.Session(model.graph, backend=backend, seed=0)
        results[backend] = sess.run(list(variables) + grads, feeds)
        if backend == "numba":
            program = next(iter(sess._programs.values()))[1]  # noqa: SLF001
            assert "def segment1" in program.source
    for got, want in zip(results["numba"], results["numpy"]):
        np.testing.assert_allclose(got, want, rtol=1e-4, atol=1e-6)


def test_dropout_in_several_segments_draws_the_reference_masks(small_segments):
    """Every segment that draws a mask gets the session's generator: the draws are
    the reference's, in order, and the next run draws new ones."""
    x = gd.placeholder((None, 40), "float32", name="x")
    h = x
    for k in range(8):
        h = gd.dropout(gd.tanh(h * float(k + 1)), 0.3)
    feeds = {x: np.linspace(-1, 1, 120, dtype="float32").reshape(3, 40)}
    runs = {}
    for backend in ("numpy", "numba"):
        sess = gd.Session(backend=backend, seed=5)
        runs[backend] = [sess.run(h, feeds) for _ in range(2)]
        if backend == "numba":
            program = next(iter(sess._programs.values()))[1]  # noqa: SLF001
            assert program.source.count("def segment") >= 2
            assert program.source.count(", rng") >= 2  # passed to several segments
    for got, want in zip(runs["numba"], runs["numpy"]):
        np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-6)
    assert not np.array_equal(runs["numba"][0], runs["numba"][1])


class _Listy(_Elementwise):
    """An elementwise op whose scalar function Numba cannot type."""

    name = "test_split_untypable"

    def forward(self, x):
        return x * 2

    @staticmethod
    def scalar(x):
        return [x, x]  # a list: not a scalar


def test_a_compile_error_in_a_later_segment_names_the_op_and_node(monkeypatch):
    monkeypatch.setattr(splitting, "SPLIT_ABOVE", 1000)
    monkeypatch.setattr(splitting, "SEGMENT_SIZE", 600)
    untypable = register(_Listy())
    try:
        x = gd.placeholder((None, 4), "float64", name="x")
        h = x
        for k in range(6):  # matmuls: kernels to cut between
            h = gd.tanh(gd.matmul(h, gd.constant(np.eye(4) * (k + 1))))
        z = apply(untypable, [gd.concat([h, h], axis=1)], name="listy")
        sess = gd.Session(backend="numba")
        with pytest.raises(LoweringError, match="op 'test_split_untypable' \\(node 'listy'\\)"):
            sess.run(z, {x: np.ones((2, 4))})
        program = next(iter(sess._programs.values()))[1]  # noqa: SLF001
        assert program.source.count("def segment") >= 2
    finally:
        REGISTRY.pop(untypable.name)


def test_auto_compiles_a_split_program_ahead_and_switches_to_it(small_segments):
    """The "auto" backend compiles a split program without running it (each segment's
    return type gives the next ones' argument types) and then runs it natively."""
    model = L.Sequential([L.SimpleRNN(3), L.Dense(2, activation="softmax")], name="m", seed=0)
    model.compile("sgd", "sparse_categorical_crossentropy", backend="numpy")
    x, y = _data(3, n=4)
    model.evaluate(x, y)
    with model.graph.as_default():
        grads = gd.gradients(model.loss, model.trainable_variables)
    feeds = {model.input: x, model._train["labels"]: y, model.training: True}  # noqa: SLF001
    want = gd.Session(model.graph, backend="numpy", seed=0).run(grads, feeds)
    from graphdl.backends.auto import AutoBackend  # noqa: PLC0415
    sess = gd.Session(model.graph, backend=AutoBackend(compile_after=1), seed=0)
    sess.run(grads, feeds)
    prog = next(iter(sess._programs.values()))[1]  # noqa: SLF001
    assert prog.wait() and prog.error is None
    assert isinstance(prog.native._fn, splitting.Segmented)  # noqa: SLF001
    for got, w in zip(sess.run(grads, feeds), want):
        np.testing.assert_allclose(got, w, rtol=1e-4, atol=1e-6)


SCRIPT = """
import sys
import numpy as np, graphdl as gd
L = gd.nn
model = L.Sequential([L.SimpleRNN(3), L.Dense(2, activation="softmax")], name="m", seed=0)
model.compile(gd.optim.SGD(0.5), "sparse_categorical_crossentropy", backend=sys.argv[1])
rng = np.random.default_rng(0)
x = rng.uniform(-1, 1, (8, 10, 2)).astype("float32")
model.fit(x, (x[:, 0, 0] > 0).astype("int64"), epochs=2, batch_size=8, verbose=0)
prog = next(iter(model.session._programs.values()))[1]
print(getattr(prog, "cache_hit", None), getattr(prog, "loaded_from_cache", None),
      getattr(prog, "source", "").count("def segment"))
np.savez(sys.argv[2], **model.get_weights())
"""


def test_a_split_training_step_matches_the_reference_and_is_cached(tmp_path):
    """An Elman RNN unrolled over 10 steps (a 40 KB training step: split with the
    default sizes) trained two steps on numba in two processes: the first compiles
    (about 20 s of CPU), the second loads every segment from the cache; both end
    with the reference's weights."""
    env = dict(os.environ, GRAPHDL_CACHE_DIR=str(tmp_path), PYTHONPATH=str(ROOT))
    for name in ("GRAPHDL_SPLIT_ABOVE", "GRAPHDL_SEGMENT_SIZE"):
        env.pop(name, None)
    runs = []
    for k, backend in enumerate(["numpy", "numba", "numba"]):
        done = subprocess.run([sys.executable, "-c", SCRIPT, backend, str(tmp_path / f"{k}.npz")],
                              env=env, capture_output=True, text=True, timeout=600)
        assert done.returncode == 0, done.stderr[-3000:]
        runs.append(done.stdout.split())
    assert runs[1][:2] == ["False", "False"] and runs[2][:2] == ["True", "True"]
    assert int(runs[1][2]) >= 3 and runs[1][2] == runs[2][2]
    want = np.load(tmp_path / "0.npz")
    for k in (1, 2):
        got = np.load(tmp_path / f"{k}.npz")
        for name in want.files:
            np.testing.assert_allclose(got[name], want[name], rtol=2e-4, atol=2e-5,
                                       err_msg=name)
