"""Rewrite passes (prune, CSE, folding, simplification, stabilization): the structure
they leave and the values, against the unoptimized program and the reference."""

import numpy as np

import graphdl as gd
from graphdl.ops.nn import DROPOUT_MASK
from graphdl.passes import cse, fold, lower, prune, simplify, stabilize
from graphdl.passes.interpret import evaluate
from graphdl.passes.ir import LOp

from .passcheck import check, op_names, program

RNG = np.random.default_rng(0)


def _x(shape=(3, 4), name="x", dtype="float32"):
    return gd.placeholder(shape, dtype, name=name)


def test_prune_drops_dead_ops_keeps_random_draws_and_params():
    x = _x()
    y = gd.exp(x)
    kept = gd.dropout(x, 0.5) * 2.0
    before, after = check([y, kept], {x: RNG.standard_normal((3, 4))}, [prune.run], seed=1)
    dead = LOp(gd.tanh.op, [after.params[0]], {}, [((3, 4), np.dtype("float32"))])
    after.ops.insert(0, dead)
    pruned = prune.run(after)
    assert dead not in pruned.ops and "dropout_mask" in op_names(pruned)
    assert len(pruned.params) == len(before.params)


def test_prune_keeps_a_random_op_nothing_reads():
    x = _x()
    _, after = check([gd.exp(x)], {x: np.ones((3, 4))}, [])
    mask = LOp(DROPOUT_MASK, [after.params[0]], {"rate": 0.5},
               [((3, 4), np.dtype("float32"))])
    after.ops.insert(0, mask)
    assert mask in prune.run(after).ops


def test_cse_merges_equal_computations_and_constants_not_random_draws():
    x = _x()
    a = gd.exp(x) * 2.0
    b = gd.exp(x) * 2.0            # same ops, same constant value
    c = gd.exp(x) * 3.0            # a different constant
    d1, d2 = gd.dropout(x, 0.5), gd.dropout(x, 0.5)
    feeds = {x: RNG.standard_normal((3, 4))}
    before, after = check([a + b + c, d1 - d2], feeds, [cse.run, prune.run])
    assert op_names(before).count("exp") == 3 and op_names(after).count("exp") == 1
    assert op_names(after).count("constant") == op_names(before).count("constant") - 1
    assert op_names(after).count("dropout_mask") == 2
    assert op_names(after).count("mul") == 4  # 2*exp, 3*exp, and each x * mask


def test_fold_evaluates_small_constant_subgraphs_and_passes_big_constants():
    x = _x((3, 300))
    small = gd.exp(gd.constant(np.float32(1.0))) * gd.constant(np.float32(2.0))
    big = gd.constant(RNG.standard_normal((300,)).astype("float32")) * 2.0
    y = x * small + big
    feeds = {x: RNG.standard_normal((3, 300))}
    before, after = check([y], feeds, [fold.run, prune.run])
    assert "exp" in op_names(before) and "exp" not in op_names(after)
    assert op_names(after).count("mul") == 1  # x * small; big * 2 was folded
    assert [p.kind for p in after.params] == ["feed", "constant"]
    assert after.params[1].ref.nbytes == 1200
    scalar = next(lop for lop in after.ops if lop.op.name == "constant")
    np.testing.assert_allclose(scalar.attrs["value"].array, 2 * np.e, rtol=1e-6)


def test_fold_leaves_an_op_that_raises_to_raise_at_run_time():
    logits = gd.constant(np.zeros((2, 3), "float32"))
    loss = gd.sparse_softmax_cross_entropy(logits, gd.constant(np.array([0, 5])))
    folded = fold.run(lower(program([loss])))
    assert "label_one_hot" in op_names(folded)


def test_simplify_removes_identities_but_keeps_x_plus_positive_zero():
    x = _x()
    i = gd.placeholder((3, 4), "int64", name="i")
    y = ((x * 1.0) / 1.0 - 0.0) ** 1.0
    z = gd.negative(gd.negative(y))
    keep = x + 0.0                 # -0.0 + 0.0 is +0.0: not an identity
    exact = x + gd.constant(np.float32(-0.0))
    ints = i + 0
    feeds = {x: np.array([[-0.0, 1, 2, 3]] * 3, "float32"), i: np.ones((3, 4), "int64")}
    before, after = check([z, keep, exact, ints], feeds, [simplify.run, prune.run])
    assert op_names(after) == ["constant", "add"]  # only x + 0.0 is left
    assert after.fetches[0] is after.params[0] and after.fetches[2] is after.params[0]
    assert after.fetches[3] is after.params[1]


def test_simplify_keeps_ops_that_broadcast_or_promote():
    x = _x((4,))
    y = x * gd.constant(np.ones((3, 4), "float32"))       # broadcasts x: kept
    z = x * gd.constant(np.float64(1.0))                   # promotes to float64: kept
    w = x * gd.constant(np.float32(1.0))                   # the identity: removed
    _, after = check([y, z, w], {x: RNG.standard_normal(4)}, [simplify.run, prune.run])
    assert op_names(after).count("mul") == 2
    assert after.fetches[2] is after.params[0]


def test_simplify_reshapes_transposes_and_matmul_flags():
    x = _x((6, 4))
    w = gd.placeholder((5, 4), name="w")
    r = gd.reshape(gd.reshape(x, (4, 6)), (2, 12))
    same = gd.reshape(x, (6, 4))
    t = gd.transpose(gd.transpose(gd.reshape(x, (2, 3, 4)), (1, 0, 2)), (2, 1, 0))
    back = gd.transpose(gd.transpose(x))
    m = x @ gd.transpose(w)                                 # (6, 4) @ (4, 5)
    m2 = gd.transpose(x) @ gd.transpose(gd.transpose(x))    # (4, 6) @ (6, 4)
    feeds = {x: RNG.standard_normal((6, 4)), w: RNG.standard_normal((5, 4))}
    before, after = check([r, same, t, back, m, m2], feeds, [simplify.run, prune.run])
    names = op_names(after)
    assert names.count("reshape") == 2 and names.count("transpose") == 1
    assert after.fetches[1] is after.params[0] and after.fetches[3] is after.params[0]
    flags = [(lop.attrs["transpose_a"], lop.attrs["transpose_b"])
             for lop in after.ops if lop.op.name == "matmul"]
    assert flags == [(False, True), (True, False)]
    assert all(lop.inputs[0] is after.params[0] for lop in after.ops
               if lop.op.name == "matmul")


def test_simplify_turns_sum_to_like_into_a_sum_and_drops_identities():
    x = gd.placeholder((None, 3, 4), name="x")
    b = gd.Variable(np.ones((3, 1), "float32"), name="b")
    c = gd.Variable(np.ones((4,), "float32"), name="c")
    loss = gd.sum(gd.exp(x * b + c))
    gb, gc = gd.gradients(loss, [b, c])
    feeds = {x: RNG.standard_normal((2, 3, 4))}
    before, after = check([gb, gc], feeds, [simplify.run, prune.run], rtol=1e-5)
    assert "sum_to_like" in op_names(before) and "sum_to_like" not in op_names(after)
    sums = [lop for lop in after.ops if lop.op.name == "sum"]
    assert {(lop.attrs["axes"], lop.attrs["keepdims"]) for lop in sums} >= {
        ((0, 2), True), ((0, 1), False)}


def test_stabilize_log_softmax_log_sigmoid_and_log_one_minus_sigmoid():
    x = _x((2, 5))
    labels = gd.placeholder((2, 5), name="labels")
    ce = -gd.sum(labels * gd.log(gd.softmax(x)), axis=1)
    ls = gd.log(gd.sigmoid(x))
    l1 = gd.log(1.0 - gd.sigmoid(x))
    feeds = {x: RNG.standard_normal((2, 5)),
             labels: np.eye(5, dtype="float32")[[1, 3]]}
    before, after = check([ce, ls, l1], feeds, [stabilize.run, prune.run], rtol=1e-5)
    names = op_names(after)
    assert "log" not in names and "softmax" not in names and "sigmoid" not in names
    assert "log_softmax" in names and names.count("softplus") == 2
    # where the originals overflow, the rewritten program stays finite
    big = {x: np.array([[200.0, -200, 0, 1, 2], [-300, 300, 5, 6, 7]], "float32"),
           labels: feeds[labels]}
    args = [np.asarray(big[p.ref], p.dtype) for p in after.params]
    fetched, _ = evaluate(after, args)
    assert all(np.all(np.isfinite(f)) for f in fetched)
    np.testing.assert_allclose(fetched[0], [400.0, 294.0], rtol=1e-5)  # max - picked


def test_stabilize_rewrites_the_gradient_of_log_softmax():
    x = _x((2, 3))
    labels = gd.placeholder((2, 3), name="labels")
    loss = -gd.sum(labels * gd.log(gd.softmax(x)))
    (gx,) = gd.gradients(loss, [x])
    onehot = np.eye(3, dtype="float32")[[0, 2]]
    feeds = {x: RNG.standard_normal((2, 3)), labels: onehot}
    before, after = check([gx], feeds, [stabilize.run, prune.run], rtol=1e-5)
    assert "div" in op_names(before) and "div" not in op_names(after)
    # logits far apart: softmax underflows to 0 where the label is; still finite
    big = {x: np.array([[0.0, 200, 0], [300, 0, 0]], "float32"), labels: onehot}
    args = [np.asarray(big[p.ref], p.dtype) for p in after.params]
    (grad,), _ = evaluate(after, args)
    np.testing.assert_allclose(grad, [[-1, 1, 0], [1, 0, -1]], atol=1e-6)


def test_stabilize_log_sum_exp_keeps_values_and_survives_extremes():
    x = gd.placeholder((None, 4), name="x")
    rows = gd.log(gd.sum(gd.exp(x), axis=1))
    kept = gd.log(gd.sum(gd.exp(x), axis=(0, 1), keepdims=True))
    feeds = {x: RNG.standard_normal((3, 4))}
    before, after = check([rows, kept], feeds, [stabilize.run, prune.run], rtol=1e-5)
    assert op_names(after).count("max") == 2 and "squeeze" in op_names(after)
    extreme = np.array([[1000, 0, -1000, 5], [-np.inf] * 4, [np.inf, 0, 1, 2]], "float32")
    with np.errstate(all="ignore"):
        (got, _), _ = evaluate(after, [extreme])
        (plain, _), _ = evaluate(before, [extreme])
    np.testing.assert_array_equal(plain, [np.inf, -np.inf, np.inf])  # exp overflowed
    np.testing.assert_array_equal(got, [1000, -np.inf, np.inf])
