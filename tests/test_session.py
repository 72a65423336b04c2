"""Session semantics: fetch structures, variables, assignments, caching, seeds."""

import numpy as np

import graphdl as gd


def test_fetch_structures():
    a = gd.constant(1.0)
    b = gd.constant([2.0, 3.0])
    sess = gd.Session()
    assert sess.run(a) == 1.0
    la, lb = sess.run([a, b])
    assert la == 1.0 and lb.tolist() == [2.0, 3.0]
    out = sess.run({"a": a, "pair": (a, b)})
    assert isinstance(out["pair"], tuple) and out["pair"][1].tolist() == [2.0, 3.0]
    assert sess.run(b.name).tolist() == [2.0, 3.0]  # by name


def test_variables_initialize_on_first_use_and_assignments_persist():
    v = gd.Variable(np.array([1.0, 2.0], "float32"), name="v")
    inc = gd.assign_add(v, [1.0, 1.0])
    sess = gd.Session()
    assert sess.run(v).tolist() == [1.0, 2.0]
    assert sess.run(inc).tolist() == [2.0, 3.0]
    assert sess.run(v).tolist() == [2.0, 3.0]
    assert gd.Session().run(v).tolist() == [1.0, 2.0]  # each session has its own state


def test_reads_in_a_run_see_the_value_from_the_start_of_the_run():
    v = gd.Variable(np.float32(5.0), name="v")
    double = v * 2.0
    update = gd.assign(v, v + 1.0)
    sess = gd.Session()
    before, new = sess.run([double, update])
    assert before == 10.0 and new == 6.0
    assert sess.run(v) == 6.0


def test_group_runs_every_member_and_returns_none():
    a = gd.Variable(0.0, name="a")
    b = gd.Variable(10.0, name="b")
    both = gd.group(gd.assign_add(a, 1.0), gd.assign_sub(b, 1.0))
    sess = gd.Session()
    assert sess.run(both) is None
    sess.run(both)
    assert sess.run([a, b]) == [2.0, 8.0]


def test_feeding_an_intermediate_tensor_cuts_the_graph():
    x = gd.placeholder((2,), name="x")
    h = x * 3.0
    y = h + 1.0
    assert gd.Session().run(y, {h: [1.0, 1.0]}).tolist() == [2.0, 2.0]


def test_program_is_compiled_once_per_signature():
    x = gd.placeholder((None,), name="x")
    y = x * 2.0
    sess = gd.Session()
    for n in (1, 3, 5):
        sess.run(y, {x: np.ones(n)})
    assert len(sess._programs) == 1


def test_random_initializers_follow_the_seed():
    w = gd.Variable(gd.initializers.glorot_uniform((3, 4)), name="w")
    first = gd.Session(seed=7).run(w)
    assert np.array_equal(first, gd.Session(seed=7).run(w))
    assert not np.array_equal(first, gd.Session(seed=8).run(w))
    assert first.dtype == np.float32 and np.abs(first).max() <= np.sqrt(6 / 7)


def test_float64_everywhere():
    x = gd.placeholder((2,), "float64", name="x")
    w = gd.Variable(np.array([0.5, 0.25]), name="w")  # float64 array stays float64
    y = gd.sigmoid(x * w) * 2  # Python numbers adopt the tensor's dtype
    assert y.dtype == np.float64
    assert gd.Session().run(y, {x: [1.0, 2.0]}).dtype == np.float64


def test_python_operators_build_nodes():
    a = gd.placeholder((2, 2), name="a")
    ops = {"add": a + 1.0, "rsub": 1.0 - a, "mul": 2.0 * a, "div": a / 2.0, "pow": a ** 2.0,
           "matmul": a @ a, "neg": -a, "lt": a < 1.5, "getitem": a[0]}
    assert {k: v.op for k, v in ops.items()} == {
        "add": "add", "rsub": "sub", "mul": "mul", "div": "div", "pow": "pow",
        "matmul": "matmul", "neg": "neg", "lt": "less", "getitem": ops["getitem"].op}
    feed = {a: [[1.0, 2.0], [3.0, 4.0]]}
    assert gd.Session().run(ops["matmul"], feed).tolist() == [[7.0, 10.0], [15.0, 22.0]]
    assert (a == a) is True  # == is identity: tensors are dict keys


def test_name_scopes_and_unique_names():
    with gd.name_scope("dense1"):
        a = gd.constant(1.0, name="w")
        b = gd.constant(1.0, name="w")
    with gd.name_scope("dense1"):
        c = gd.constant(1.0, name="w")
    assert a.name == "dense1/w" and b.name == "dense1/w_1"
    assert c.name == "dense1_1/w"


def test_explicit_graphs_are_independent():
    g1, g2 = gd.Graph(), gd.Graph()
    with g1.as_default():
        gd.constant(1.0)
    assert len(g2.nodes) == 0 and len(g1.nodes) == 1
    assert gd.get_default_graph() is not g1


def test_a_repeated_run_signature_is_resolved_again_when_anything_changed():
    """Session._LastCall skips resolving a run's arguments when a loop repeats them: it
    must notice a mutated fetch list, other feed keys, and still check feed values."""
    import pytest  # noqa: PLC0415

    x = gd.placeholder((None,), name="x")
    z = gd.placeholder((None,), name="z")
    a, b = x * 2.0, x + 1.0
    sess = gd.Session()
    one = {x: np.ones(2, "float32")}
    fetches = [a, b]
    assert [v.tolist() for v in sess.run(fetches, one)] == [[2.0, 2.0], [2.0, 2.0]]
    assert sess._last is not None  # the fast path is taken from here on
    fetches[1] = a * 5.0  # the same list object, mutated
    assert [v.tolist() for v in sess.run(fetches, one)] == [[2.0, 2.0], [10.0, 10.0]]
    assert isinstance(sess.run((a, b), one), tuple)  # the fetch type comes back
    assert sess.run(a, one).tolist() == [2.0, 2.0]
    assert sess.run(a, one).tolist() == [2.0, 2.0]
    with pytest.raises(gd.FeedError, match="'x'"):  # values are checked on every run
        sess.run(a, {x: np.ones((2, 2), "float32")})
    # other feed keys: the program that needs z (and the error naming it)
    both = x + z
    feeds = {x: np.ones(2, "float32"), z: np.full(2, 3.0, "float32")}
    assert sess.run(both, feeds).tolist() == [4.0, 4.0]
    assert sess.run(both, feeds).tolist() == [4.0, 4.0]
    with pytest.raises(gd.GraphError, match="'z'"):
        sess.run(both, {x: np.ones(2, "float32")})
    # a feed dict keyed by names and a dict of fetches are not memoized, still correct
    assert sess.run({"a": a}, {"x": [1.0, 2.0]})["a"].tolist() == [2.0, 4.0]
    assert sess._last is None
    assert sess.run({"a": a}, {"x": [1.0, 2.0]})["a"].tolist() == [2.0, 4.0]
    c = gd.constant(7.0)
    assert sess.run(c) == 7.0 and sess.run(c, None) == 7.0 and sess.run(c, {}) == 7.0
