"""The worked example of seed 004: one SGD step of softmax regression by hand.

ŷ = softmax(W x + b), L = CE(y, ŷ), a batch of three examples, α = 0.1.
The slides compute ∂L/∂b1 = ŷ1 − y1 per example (−0.19, 0.54, −0.26), average
them (0.03) and update b1 from 0 to −0.003. The slides' W is only partly
legible (the forward picture shows z = (0.96, −0.5) for the first example), so
W here is a reconstruction consistent with every number the slides print.
"""

import sys
from pathlib import Path

import numpy as np

import graphdl as gd

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import parse_args, write_graphs  # noqa: E402

X = np.array([[0.2, 0.7], [0.8, 0.1], [0.3, 0.5]], dtype="float32")  # x1, x2, x3
Y = np.array([[1, 0], [0, 1], [1, 0]], dtype="float32")  # y1, y2, y3 (one-hot)
W_INIT = np.array([[1.3, 1.0], [1.35, -1.1]], dtype="float32")  # rows: classes
LEARNING_RATE = 0.1


def build_graph():
    """The slides' graph: returns (graph, dict of its named tensors)."""
    graph = gd.Graph()
    with graph.as_default():
        x = gd.placeholder((None, 2), name="x")
        y = gd.placeholder((None, 2), name="y")
        W = gd.Variable(W_INIT, name="W")
        b = gd.Variable(np.zeros(2, "float32"), name="b")
        z = x @ gd.transpose(W) + b  # z = W x + b for each example (row)
        per_example = gd.softmax_cross_entropy(z, y)
        J = gd.mean(per_example, name="J")  # J(θ) = 1/m Σ L(y, ŷ)
        # ∂L_i/∂b for each example i separately: rows of ∂L_i/∂z (b is added per row)
        dL_dz = gd.gradients(gd.sum(per_example), z)
        (dJ_db,) = gd.gradients(J, [b])
        step = gd.assign_sub(b, LEARNING_RATE * dJ_db, name="update_b")
    return graph, dict(x=x, y=y, W=W, b=b, z=z, J=J, dL_dz=dL_dz, dJ_db=dJ_db, step=step)


def one_step(backend="numpy", out=None):
    """Return (z of x1, per-example ∂L/∂b1, new b) after one gradient step; with
    ``out``, also write the forward and backward pictures there."""
    graph, t = build_graph()
    if out is not None:
        write_graphs(t["J"], graph, out, "seed 004 softmax regression")
    sess = gd.Session(graph, backend=backend)
    feed = {t["x"]: X, t["y"]: Y}
    z_val, per_b1 = sess.run([t["z"], t["dL_dz"][:, 0]], feed)
    new_b = sess.run(t["step"], feed)
    return z_val[0], per_b1, new_b


def main(argv=None):
    args = parse_args(__doc__, argv)  # --quick changes nothing: one step is quick
    z1, per_b1, new_b = one_step(args.backend, args.out)
    print(f"z for x1 = {np.round(z1, 2)}  (slides: [0.96, -0.5])")
    print(f"∂L/∂b1 per example = {np.round(per_b1, 2)}  (slides: [-0.19, 0.54, -0.26])")
    print(f"b1 after one step = {new_b[0]:.3f}  (slides: -0.003)")
    assert np.allclose(z1, [0.96, -0.5], atol=1e-6)
    assert np.array_equal(np.round(per_b1, 2), np.array([-0.19, 0.54, -0.26], "float32"))
    assert round(float(new_b[0]), 3) == -0.003
    # the update is exactly −α·mean(ŷ1 − y1)
    assert np.isclose(new_b[0], -LEARNING_RATE * per_b1.mean(), rtol=1e-6)
    return True


if __name__ == "__main__":
    main()
