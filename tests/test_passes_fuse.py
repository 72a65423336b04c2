"""Fusion: kernels partition the ops, with inputs/outputs from the data flow."""

import numpy as np

import graphdl as gd
from graphdl.passes import fuse

from .passcheck import check


def partition_ok(lp):
    in_kernels = [lop for k in lp.kernels for lop in k.ops]
    assert in_kernels == lp.ops  # every op once, kernels in execution order
    produced = set(lp.params)
    for k in lp.kernels:
        assert all(v in produced for v in k.inputs), k
        for lop in k.ops:
            produced.update(lop.outputs)
    live = set(lp.live_values())
    for k in lp.kernels:
        for v in live:
            if v.producer is not None and v.producer in k.ops:
                assert v in k.outputs


def test_mlp_step_kernels_partition_the_program():
    x = gd.placeholder((None, 4), name="x")
    W = gd.Variable(np.ones((4, 3), "float32") / 7, name="W")
    b = gd.Variable(np.zeros(3, "float32"), name="b")
    h = gd.relu(x @ W + b)
    loss = gd.mean(gd.sum(h * h, axis=1))
    gW, gb = gd.gradients(loss, [W, b])
    train = gd.group(gd.assign_sub(W, 0.1 * gW), gd.assign_sub(b, 0.1 * gb))
    X = np.arange(8, dtype="float32").reshape(2, 4)
    _, lp = check([loss, train], {x: X}, [fuse.run])
    partition_ok(lp)
    kinds = {k.kind for k in lp.kernels}
    assert {"elementwise", "matmul", "reduction"} <= kinds
    red = next(k for k in lp.kernels if k.kind == "reduction")
    assert red.shape == red.ops[-1].inputs[0].shape
    assert "kernel 0" in lp.dump()


def test_axis_map_aligns_on_the_right_and_broadcasts_static_ones():
    from graphdl.passes.ir import Kernel, Value  # noqa: PLC0415
    k = Kernel("elementwise", [], [], [], (None, 5, 3))
    assert k.axis_map(Value((3,), "float32")) == (2,)
    assert k.axis_map(Value((1, 3), "float32")) == (None, 2)
    assert k.axis_map(Value((None, 1, 3), "float32")) == (0, None, 2)
    assert k.axis_map(Value((), "float32")) == ()


def _kernels(fetches, feeds, passes=None):
    from graphdl.passes import PIPELINE  # noqa: PLC0415
    _, lp = check(fetches, feeds, passes or [p for _, p in PIPELINE])
    partition_ok(lp)
    return lp


def test_a_broadcasting_chain_is_one_elementwise_kernel_with_one_output():
    x = gd.placeholder((None, 4), name="x")
    b = gd.placeholder((4,), name="b")
    y = gd.tanh(gd.exp(x + b) * 2.0 - x)
    lp = _kernels([y], {x: np.ones((3, 4), "float32"), b: np.arange(4, dtype="float32")})
    (k,) = [k for k in lp.kernels if k.kind == "elementwise"]
    assert [lop.op.name for lop in k.ops] == ["add", "exp", "mul", "sub", "tanh"]
    assert k.shape == (None, 4) and k.outputs == [lp.fetches[0]]
    assert k.inputs[:2] == lp.params[:2] and k.axis_map(lp.params[1]) == (1,)


def test_a_fused_value_read_later_is_an_output_and_not_recomputed():
    x = gd.placeholder((2, 5), name="x")
    e = gd.exp(x)
    total = gd.sum(e * x, axis=1)                  # fused into the reduction's loop
    later = gd.softmax(e)                          # reads e after the reduction
    lp = _kernels([total, later], {x: np.ones((2, 5), "float32")})
    red = next(k for k in lp.kernels if k.kind == "reduction")
    assert [lop.op.name for lop in red.ops] == ["exp", "mul", "sum"]
    assert red.shape == (2, 5) and red.reduce_axes == (1,) and not red.keepdims
    e_value = red.ops[0].outputs[0]
    assert e_value in red.outputs                  # written once, read by softmax
    assert sum(lop.op.name == "exp" for lop in lp.ops) == 1


def test_matmul_epilogue_takes_bias_and_activation():
    x = gd.placeholder((None, 3), name="x")
    W = gd.Variable(np.ones((3, 4), "float32"), name="W")
    b = gd.Variable(np.ones(4, "float32"), name="b")
    y = gd.relu(x @ W + b)
    lp = _kernels([y], {x: np.ones((2, 3), "float32")})
    (k,) = lp.kernels
    assert k.kind == "matmul" and [lop.op.name for lop in k.ops] == ["matmul", "add", "relu"]
    assert k.outputs == [lp.fetches[0]]


def test_random_draws_keep_their_order_and_a_closed_kernel_is_not_joined():
    x = gd.placeholder((3, 4), name="x")
    a = gd.dropout(x, 0.3)
    b = gd.dropout(gd.exp(a), 0.6)
    lp = _kernels([a, b], {x: np.ones((3, 4), "float32")})
    masks = [lop for lop in lp.ops if lop.op.name == "dropout_mask"]
    assert [m.attrs["rate"] for m in masks] == [0.3, 0.6]
