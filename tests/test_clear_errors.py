"""Mistakes that used to end in raw tracebacks now raise one clear GraphError (#9)."""

import collections
import subprocess
import sys

import numpy as np
import pytest

import graphdl as gd


# -- fetches and names --------------------------------------------------------------------
def test_a_group_fetched_by_name_runs_and_gives_none(backend):
    v = gd.Variable(0.0, dtype="float64", name="v")
    gd.group(gd.assign_add(v, 1.0), name="train")
    sess = gd.Session(backend=backend)
    assert sess.run("train") is None
    assert sess.run(v) == 1.0


@pytest.mark.parametrize("name,match", [("x:5", "has 1 output"), ("x:abc", "output index"),
                                         ("x:", "output index"), ("nope", "no node")])
def test_bad_tensor_names_are_clear(name, match):
    gd.placeholder((), name="x")
    with pytest.raises(gd.GraphError, match=match):
        gd.Session().run(name)


def test_a_namedtuple_fetch_comes_back_as_the_namedtuple(backend):
    Pair = collections.namedtuple("Pair", "a b")
    x = gd.constant(2.0)
    got = gd.Session(backend=backend).run(Pair(x, [x * 3.0]))
    assert isinstance(got, Pair) and got.a == 2.0 and got.b[0] == 6.0


# -- feeds and sessions ---------------------------------------------------------------------
def test_a_ragged_list_feed_is_a_feed_error():
    x = gd.placeholder((None, None), "float64", name="x")
    with pytest.raises(gd.FeedError, match="'x'.*rectangular"):
        gd.Session().run(x, {x: [[1.0, 2.0], [3.0]]})


def test_a_list_of_pairs_as_feed_dict_is_a_feed_error():
    x = gd.placeholder((), "float64", name="x")
    with pytest.raises(gd.FeedError, match="feed_dict must be a dict"):
        gd.Session().run(x, [(x, 1.0)])


@pytest.mark.parametrize("kwargs,match", [
    ({"seed": -1}, "seed"), ({"seed": 1.5}, "seed"), ({"seed": True}, "seed"),
    ({"graph": "s"}, "graph must be"), ({"backend": None}, "backend must be"),
    ({"backend": 3}, "backend must be"), ({"backend": "nope"}, "unknown backend"),
])
def test_bad_session_arguments_are_clear(kwargs, match):
    with pytest.raises(gd.GraphError, match=match):
        gd.Session(**kwargs)
    if "seed" in kwargs:
        with pytest.raises(gd.GraphError, match="seed"):
            gd.Graph(seed=kwargs["seed"])


# -- ops -------------------------------------------------------------------------------------
@pytest.mark.parametrize("build", [lambda b: -b, lambda b: gd.sign(b), lambda b: b - b])
def test_negation_sign_and_subtraction_of_bools_fail_at_build_time(build):
    b = gd.placeholder((2,), "bool", name="flags")
    with pytest.raises(gd.DTypeError, match="bool"):
        build(b)


def test_max_pool_gradient_with_an_empty_batch(backend):
    x = gd.placeholder((None, 1, 4, 4), "float64", name="x")
    y = gd.max_pool2d(x, 2)
    g = gd.gradients(gd.sum(y * y), x)
    got = gd.Session(backend=backend).run(g, {x: np.zeros((0, 1, 4, 4))})
    assert got.shape == (0, 1, 4, 4)


@pytest.mark.parametrize("reduce", [gd.max, gd.min, gd.argmax, gd.argmin])
def test_reducing_over_an_empty_axis_says_so(reduce, backend):
    x = gd.placeholder((None, 3), "float64", name="x")
    y = reduce(x, axis=0)
    with pytest.raises(gd.ShapeError, match="empty axis|zero-size|size 0"):
        gd.Session(backend=backend).run(y, {x: np.zeros((0, 3))})
    with pytest.raises(gd.ShapeError, match="empty axis"):
        reduce(gd.constant(np.zeros((0, 3))), axis=0)


def test_sum_over_an_empty_axis_is_zero(backend):
    x = gd.placeholder((None, 3), "float64", name="x")
    got = gd.Session(backend=backend).run(gd.sum(x, axis=0), {x: np.zeros((0, 3))})
    np.testing.assert_array_equal(got, np.zeros(3))


def test_a_value_error_that_is_not_about_shapes_is_not_a_shape_error():
    from graphdl.ops.base import OpDef, apply

    class Picky(OpDef):
        name = "picky_for_test"

        def infer(self, x):
            return [(x.shape, x.dtype)]

        def forward(self, x):
            raise ValueError("negative values are not allowed")

    x = gd.placeholder((2,), "float64", name="x")
    y = apply(Picky(), [x])
    with pytest.raises(gd.ExecutionError, match="negative values.*node 'picky_for_test'") as e:
        gd.Session().run(y, {x: np.ones(2)})
    assert not isinstance(e.value, gd.ShapeError)


def test_a_shape_too_big_to_address_fails_at_build_time_naming_node_and_bytes():
    x = gd.placeholder((2**40,), "float64", name="x")
    with pytest.raises(gd.ShapeError, match=r"node 'mul'.*bytes"):
        gd.reshape(x, (2**40, 1), name="tall") * gd.reshape(x, (1, 2**40), name="outer")


def test_a_value_too_big_for_memory_names_node_and_bytes():
    x = gd.placeholder((None,), "float64", name="x")
    y = gd.reshape(x, (-1, 1), name="col") * gd.reshape(x, (1, -1), name="row")
    n = 2**22  # the outer product needs 2**44 * 8 bytes = 128 TiB
    with pytest.raises(gd.OutOfMemoryError, match=r"mul.*140,737,488,355,328 bytes"):
        gd.Session().run(y, {x: np.zeros(n)})


# -- the command line ---------------------------------------------------------------------------
SCRIPT = """
import graphdl as gd
def build():
    x = gd.placeholder((2,), name="x")
    return x * 2.0
def needs(a, b=1):
    return None
"""


@pytest.mark.parametrize("args,match", [
    (["-o", "{dir}", "--format", "svg"], "is a directory"),
    (["-o", "{file}/x.dot"], "cannot write"),
    (["--highlight", "x:5"], "has 1 output"),
    (["--highlight", "x:abc"], "output index"),
])
def test_cli_errors_exit_2_with_one_line(tmp_path, args, match):
    script = tmp_path / "model.py"
    script.write_text(SCRIPT)
    args = [a.format(dir=tmp_path, file=script) for a in args]
    _expect_one_line_error([f"{script}:build", *args], match)


def test_cli_function_that_needs_arguments_exits_2(tmp_path):
    script = tmp_path / "model.py"
    script.write_text(SCRIPT)
    _expect_one_line_error([f"{script}:needs"], r"needs\(\) needs arguments \(a\)")


def _expect_one_line_error(args, match):
    result = subprocess.run([sys.executable, "-m", "graphdl", "render", *args],
                            capture_output=True, text=True)
    assert result.returncode == 2, result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("graphdl render: error:"), result.stderr
    assert __import__("re").search(match, lines[0]), lines[0]
