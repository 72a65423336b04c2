"""What keeps the numba backend's compile and start-up short: scalar functions inlined
into the generated code, allocation intrinsics, SciPy's BLAS loaded without
``scipy.linalg``, cached programs loaded without Numba's registry refresh."""

import math
import os
import subprocess
import sys
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest

from graphdl.backends.numba_common.codegen import ScalarFunctions
from graphdl.backends.numba_common.inline import inliner

ROOT = Path(__file__).resolve().parent.parent
LIMIT = 3.0


def _render(fn, args):
    lines, n = [], iter(range(1000))
    expr = inliner(fn).render(args, lines.append, lambda prefix: f"{prefix}{next(n)}")
    return expr, lines


def _run_inlined(fn, *values):
    """Execute the rendered code as plain Python: it must compute ``fn(*values)``."""
    expr, lines = _render(fn, [f"a{i}" for i in range(len(values))])
    scope = {"math": math, "np": np, **{f"a{i}": v for i, v in enumerate(values)}}
    exec("\n".join(lines + [f"result = {expr}"]), scope)  # noqa: S102 (test-generated)
    return scope["result"]


def clipped(x, hi):
    if x > hi:
        return hi
    t = x * 2.0
    if t < -LIMIT:
        return -LIMIT
    return t - 1.0


def test_statement_bodies_are_inlined_with_fresh_names_and_global_numbers():
    expr, lines = _render(clipped, ["v0[i0, i1]", "np.float64(0.5)"])
    text = "\n".join(lines)
    assert "LIMIT" not in text and "3.0" in text  # a module-level number became a literal
    assert "v0[i0, i1]" in lines[0] and text.count("v0[i0, i1]") == 1  # read once
    for x in (-9.0, -1.0, 0.2, 0.7, 5.0):
        assert _run_inlined(clipped, x, 0.5) == clipped(x, 0.5)


def test_an_argument_read_once_in_an_expression_is_substituted():
    def add(a, b):
        return a + b

    assert _render(add, ["t0", "v1[i0]"]) == ("(t0 + v1[i0])", [])
    assert _render(add, ["-1.0", "t0"])[0] == "((-1.0) + t0)"


def test_an_argument_read_only_on_some_paths_is_bound_first():
    """An array read inlined into an arm of a conditional expression would be a
    conditional load (compiled as a branch, mispredicted on random masks): such
    arguments are read into a local before the expression, as a call would."""
    def where(c, a, b):
        return a if c else b

    def either(a, b):
        return a > 0 or b > 0

    expr, lines = _render(where, ["m[i0]", "g[i0]", "0.0"])
    assert lines == ["s0 = g[i0]"] and expr == "(s0 if m[i0] else 0.0)"
    expr, lines = _render(either, ["x[i0]", "y[i0]"])
    assert lines == ["s0 = y[i0]"] and expr == "(x[i0] > 0 or s0 > 0)"
    for values in ((True, 2.0, 3.0), (False, 2.0, 3.0)):
        assert _run_inlined(where, *values) == where(*values)


def _loop(x):
    y = 0.0
    for _ in range(3):
        y += x
    return y


def _fall_through(x):
    if x > 0:
        return x
    x = -x  # assigns a parameter


def _calls_numpy(x):
    return np.exp(x)


def test_what_cannot_be_inlined_is_called_instead():
    for fn in (_loop, _fall_through, _calls_numpy, lambda x: x):
        assert inliner(fn) is None, fn
    scalars = ScalarFunctions("jitted", inline_into=SimpleNamespace(
        line=lambda text: None, fresh=lambda prefix: prefix + "0"))
    op = SimpleNamespace(name="looped", scalar=_loop)
    assert scalars.expression(op, ["t0"], {}) == "_looped_0(t0)"
    assert "jitted(_looped_0_py)" in scalars.prelude()


def test_allocation_intrinsics_match_numpy():
    numba = pytest.importorskip("numba")
    from graphdl.backends.numba_cpu.kernels.alloc import empty, full, zeros  # noqa: PLC0415

    @numba.njit
    def make(n):
        return (empty((n, 3), np.float32), zeros((n, 2), np.bool_), zeros((), np.float64),
                full((n,), -np.inf, np.float32), full((2, n), 7, np.int32),
                full((), 1.5, np.bool_))

    e, z, z0, f, fi, fb = make(4)
    assert e.shape == (4, 3) and e.dtype == np.float32 and e.flags.c_contiguous
    np.testing.assert_array_equal(z, np.zeros((4, 2), bool))
    assert z0.shape == () and z0 == 0.0 and z0.dtype == np.float64
    np.testing.assert_array_equal(f, np.full(4, -np.inf, np.float32))
    np.testing.assert_array_equal(fi, np.full((2, 4), 7, np.int32))
    assert fb.dtype == np.bool_ and fb[()]
    with pytest.raises(ValueError, match="negative dimensions"):
        make(-1)


BLAS_SCRIPT = """
import sys
import numpy as np
from graphdl.backends.numba_cpu.scipy_blas import single_threaded_blas
single_threaded_blas()
print("scipy.linalg" in sys.modules, "scipy.linalg.cython_blas" in sys.modules)
from numba import njit
a = np.arange(6, dtype=np.float32).reshape(2, 3)
print(njit(lambda a, b: np.dot(a, b))(a, a.T).tolist())
from graphdl.backends.numba_cpu.scipy_blas import blas_threads
print(blas_threads())
import scipy.linalg
print(scipy.linalg.blas.sgemm(1.0, a, a.T).tolist())
"""


def test_scipy_blas_is_loaded_without_scipy_linalg_and_runs_on_one_thread():
    env = dict(os.environ, PYTHONPATH=str(ROOT), GRAPHDL_BLAS_THREADS="1")
    done = subprocess.run([sys.executable, "-c", BLAS_SCRIPT], env=env,
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-3000:]
    imported, product, threads, later = done.stdout.strip().splitlines()
    assert imported == "False True"
    assert product == later == "[[5.0, 14.0], [14.0, 50.0]]"
    assert threads in ("[1]", "[]")  # [] where SciPy's OpenBLAS is not a wheel's own


LOAD_SCRIPT = """
import numpy as np, graphdl as gd
x = gd.placeholder((None, 4), "float32", name="x")
w = gd.Variable(np.linspace(-1, 1, 12, dtype="float32").reshape(4, 3), name="w")
h = gd.dropout(gd.relu(x @ w), 0.5, training=True)
loss = gd.mean(h * h)
step = gd.assign_sub(w, 0.1 * gd.gradients(loss, [w])[0])
sess = gd.Session(backend="numba", seed=3)
feed = {x: np.linspace(-2, 2, 20, dtype="float32").reshape(5, 4)}
out = [sess.run([loss, step], feed)[0] for _ in range(3)]
prog = next(iter(sess._programs.values()))[1]
print(type(prog._fn._cache).__name__, prog.loaded_from_cache, repr(out), repr(sess.run(w).tolist()))
"""


def test_a_second_process_loads_a_program_with_random_draws_and_blas(tmp_path):
    """The quick loader (no registry refresh) runs NRT allocation, BLAS and the random
    generator of a cached program exactly as the process that compiled it."""
    env = dict(os.environ, PYTHONPATH=str(ROOT), GRAPHDL_CACHE_DIR=str(tmp_path),
               NUMBA_CACHE_DIR=str(tmp_path / "numba"))
    runs = []
    for _ in range(2):
        done = subprocess.run([sys.executable, "-c", LOAD_SCRIPT], env=env,
                              capture_output=True, text=True, timeout=600)
        assert done.returncode == 0, done.stderr[-3000:]
        runs.append(done.stdout.split(" ", 2))
    (cls1, loaded1, values1), (cls2, loaded2, values2) = runs
    assert cls1 == cls2 == "QuickLoadCache"
    assert (loaded1, loaded2) == ("False", "True")
    assert values1 == values2


def test_auto_lowers_the_switch_interval_only_while_compiling(monkeypatch):
    """The interpreted runs get the GIL back quickly while Numba compiles (auto.py)."""
    import graphdl as gd  # noqa: PLC0415
    from graphdl.backends import auto  # noqa: PLC0415

    monkeypatch.delenv("GRAPHDL_BACKEND", raising=False)
    before = sys.getswitchinterval()
    seen = []
    real = auto._compile_started  # noqa: SLF001

    def spy():
        real()
        seen.append(sys.getswitchinterval())

    monkeypatch.setattr(auto, "_compile_started", spy)
    x = gd.placeholder((None, 2), "float32", name="x")
    y = gd.tanh(x) * 3.0
    sess = gd.Session()
    feeds = {x: np.ones((2, 2), "float32")}
    sess.run(y, feeds)
    sess.run(y, feeds)
    prog = next(iter(sess._programs.values()))[1]
    assert prog.wait() and prog.error is None
    assert seen == [min(before, auto.COMPILING_SWITCH_INTERVAL)]
    assert sys.getswitchinterval() == before


EXIT_SCRIPT = """
import numpy as np, graphdl as gd
x = gd.placeholder((None, 3), "float32", name="x")
y = gd.sum(gd.sigmoid(x @ gd.Variable(np.ones((3, 4), "float32"), name="w")))
sess = gd.Session(backend="auto")
sess.run(y, {x: np.ones((2, 3), "float32")})
sess.run(y, {x: np.ones((2, 3), "float32")})  # starts the background compile
print("done")
"""


def test_an_interpreter_exiting_during_a_background_compile_prints_nothing(tmp_path):
    env = dict(os.environ, PYTHONPATH=str(ROOT), GRAPHDL_CACHE_DIR=str(tmp_path),
               NUMBA_CACHE_DIR=str(tmp_path / "numba"))
    env.pop("GRAPHDL_BACKEND", None)
    done = subprocess.run([sys.executable, "-c", EXIT_SCRIPT], env=env,
                          capture_output=True, text=True, timeout=300)
    assert (done.returncode, done.stdout, done.stderr) == (0, "done\n", "")
