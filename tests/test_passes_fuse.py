"""Fusion: kernels partition the ops, with inputs/outputs from the data flow."""

import numpy as np

import graphdl as gd
from graphdl.passes import fuse

from .passcheck import check


def _partition_ok(lp):
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
    _partition_ok(lp)
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
