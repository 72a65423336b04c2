"""Every elementwise op's scalar function agrees with its NumPy ``forward``.

On ordinary values and on nan, ±inf, ±0, tiny and large magnitudes; run as plain
Python (on NumPy scalars, see graphdl/ops/scalars.py) and compiled with
``numba.njit(error_model="numpy")`` in float32 and float64. The compiled checks
build ONE generated function per dtype that calls every scalar function, so the
whole file costs two compilations.
"""

import inspect
import itertools
import math

import numpy as np
import pytest

from graphdl.ops.base import REGISTRY
from graphdl.ops.scalars import scalar_attr_args, scalar_kwargs

ORDINARY = [-2.5, -1.0, -0.3, 0.5, 1.0, 2.0, 3.7]
SPECIAL = [np.nan, np.inf, -np.inf, 0.0, -0.0, 1e-30, -1e-30, 1e30, -1e30,
           88.0, 89.0, 700.0, 710.0, -710.0]
PAIR_VALUES = [-2.5, -1.0, -0.0, 0.0, 0.5, 1.0, 2.0, 3.0, np.nan, np.inf, -np.inf,
               1e-30, 1e30, -1e30]
#: attrs of ops that have some (cast's dtype is set per case)
ATTRS = {"leaky_relu": {"alpha": 0.2}}
CAST_TARGETS = ["float32", "float64", "bool", "int64"]


def _elementwise_ops():
    return sorted((op for op in REGISTRY.values() if op.scalar is not None),
                  key=lambda op: op.name)


def _arity(op):
    attrs = ATTRS.get(op.name, {})
    return len([p for p in inspect.signature(op.scalar).parameters if p not in attrs])


def _inputs(op, dtype, special=True):
    """The input arrays of one op's case: every value (unary) or every pair (binary)."""
    values = ORDINARY + (SPECIAL if special else [])
    if dtype == "float64" and special:
        values = values + [1e300, -1e300]
    n = _arity(op)
    if op.name == "where":
        pairs = list(itertools.product([True, False], PAIR_VALUES, PAIR_VALUES))
        return [np.array([p[0] for p in pairs]),
                *(np.array([p[i] for p in pairs], dtype) for i in (1, 2))]
    if n == 1:
        return [np.array(values, dtype)]
    grid = PAIR_VALUES if special else ORDINARY
    pairs = list(itertools.product(grid, grid))
    return [np.array([p[i] for p in pairs], dtype) for i in range(2)]


def _cases(dtype, special=True):
    """(label, op, input arrays, attrs) for every elementwise op (cast once per target)."""
    out = []
    for op in _elementwise_ops():
        if op.name == "cast":
            for target in CAST_TARGETS:
                ok = special and target in ("float32", "float64", "bool")
                out.append((f"cast->{target}", op, _inputs(op, dtype, ok),
                            {"dtype": np.dtype(target)}))
        else:
            out.append((op.name, op, _inputs(op, dtype, special), ATTRS.get(op.name, {})))
    return out


def _expected(op, arrays, attrs):
    with np.errstate(all="ignore"):
        return np.asarray(op.forward(*arrays, **attrs))


def _check(label, actual, expected):
    assert actual.dtype == expected.dtype, label
    if expected.dtype.kind != "f":
        np.testing.assert_array_equal(actual, expected, err_msg=label)
        return
    tol = 2e-6 if expected.dtype == np.float32 else 1e-14
    np.testing.assert_allclose(actual, expected, rtol=tol, atol=0, equal_nan=True,
                               err_msg=label)
    zeros = expected == 0
    np.testing.assert_array_equal(np.signbit(actual[zeros]), np.signbit(expected[zeros]),
                                  err_msg=f"{label}: sign of zero")


def _python(op, arrays, attrs, out_dtype):
    kw = scalar_kwargs(op.scalar, attrs)
    with np.errstate(all="ignore"):
        results = [op.scalar(*args, **kw) for args in zip(*arrays)]
        return np.array(results).astype(out_dtype)


def test_attrs_by_position_are_the_same_call():
    for op in _elementwise_ops():
        attrs = ATTRS.get(op.name, {})
        args = (0.7,) * _arity(op)
        assert op.scalar(*args, *scalar_attr_args(op.scalar, attrs)) == \
            op.scalar(*args, **scalar_kwargs(op.scalar, attrs)), op


def test_every_elementwise_op_has_a_scalar_function_covered_here():
    names = {op.name for op in _elementwise_ops()}
    assert {"add", "sigmoid", "maximum", "where", "cast", "leaky_relu", "less"} <= names
    for op in _elementwise_ops():
        assert callable(op.scalar), op
        assert 1 <= _arity(op) <= 3, op


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_scalar_functions_in_python_match_forward(dtype):
    for label, op, arrays, attrs in _cases(dtype):
        expected = _expected(op, arrays, attrs)
        _check(label, _python(op, arrays, attrs, expected.dtype), expected)


def test_scalar_functions_on_integers_match_forward():
    values = np.array([-7, -1, 0, 1, 3, 12], "int64")
    for op in _elementwise_ops():
        if op.name in ("cast", "where") or getattr(op, "float_only", False):
            continue
        arrays = [values] if _arity(op) == 1 else [
            np.repeat(values, values.size), np.tile(values, values.size)]
        expected = _expected(op, arrays, ATTRS.get(op.name, {}))
        _check(op.name, _python(op, arrays, ATTRS.get(op.name, {}), expected.dtype),
               expected)


def _compiled_batch(cases, inline=False):
    """One njit function applying every case's scalar function elementwise: called
    as njit functions, or with their bodies written inline the way the numba
    backend's generated code has them (graphdl/backends/numba_common/inline.py)."""
    numba = pytest.importorskip("numba")
    from graphdl.backends.numba_common.codegen import attr_text  # noqa: PLC0415
    from graphdl.backends.numba_common.inline import inliner  # noqa: PLC0415
    env, params, body = {"np": np, "math": math}, [], []
    names = itertools.count()
    for k, (_, op, arrays, attrs) in enumerate(cases):
        ins = [f"i{k}_{j}" for j in range(len(arrays))]
        params += ins + [f"o{k}"]
        args = [f"{i}[n]" for i in ins]
        if inline:
            lines = []
            code = inliner(op.scalar)
            assert code is not None, f"{op.name}'s scalar function is not inlined"
            expr = code.render(args + [attr_text(v) for v in scalar_attr_args(op.scalar, attrs)],
                               lines.append, lambda prefix: f"{prefix}{next(names)}")
            body.append(f"    for n in range(o{k}.size):\n" +
                        "".join(f"        {text}\n" for text in lines) +
                        f"        o{k}[n] = {expr}")
            continue
        env[f"f{k}"] = numba.njit(error_model="numpy")(op.scalar)
        kw = "".join(f", {n}={v!r}" for n, v in scalar_kwargs(op.scalar, attrs).items())
        body.append(f"    for n in range(o{k}.size):\n"
                    f"        o{k}[n] = f{k}({', '.join(args)}{kw})")
    source = f"def run({', '.join(params)}):\n" + "\n".join(body) + "\n"
    exec(compile(source, "<scalar batch>", "exec"), env)  # noqa: S102 (test-generated)
    return numba.njit(error_model="numpy")(env["run"])


@pytest.mark.parametrize("inline", [False, True], ids=["called", "inlined"])
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_scalar_functions_compiled_with_numba_match_forward(dtype, inline):
    cases = _cases(dtype)
    run = _compiled_batch(cases, inline)
    expected = [_expected(op, arrays, attrs) for _, op, arrays, attrs in cases]
    outs = [np.empty_like(e) for e in expected]
    run(*[a for (_, _, arrays, _), o in zip(cases, outs) for a in (*arrays, o)])
    for (label, *_), actual, e in zip(cases, outs, expected):
        _check(f"{label} compiled {dtype} {'inlined' if inline else 'called'}", actual, e)
