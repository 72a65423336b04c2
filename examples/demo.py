"""`make demo`: the seed 004 graph, then an MLP trained on XOR, with pictures.

1. Builds the TensorFlow graph of seed 004 — x[10,1], W1[4,10], sigmoid,
   W2[2,4], softmax — and runs it once.
2. Trains an MLP on XOR with gd.gradients and assignment ops, printing the
   loss going down and the final predictions.
3. Renders the trained model's forward and backward graphs to out/forward.svg
   and out/backward.svg, and seed 004's "path of b1" to out/seed004_*.svg.
"""

import sys
from pathlib import Path

import numpy as np

import graphdl as gd

sys.path.insert(0, str(Path(__file__).resolve().parent))
import seed004_path_of_b1  # noqa: E402
from xor_mlp import INPUTS, TARGETS, build_xor_mlp  # noqa: E402

OUT = Path("out")


def build_seed004_graph():
    """The slide's graph: yhat = softmax(W2 · sigmoid(W1 · x)), zero-initialized.

    Returns (graph, x, yhat). Also drawable from the command line:
    ``graphdl render examples/demo.py:build_seed004_graph -o seed004.svg``.
    """
    graph = gd.Graph()
    with graph.as_default():
        x = gd.placeholder((10, 1), name="x")
        with gd.name_scope("hidden"):
            W1 = gd.Variable(np.zeros((4, 10), "float32"), name="W1")
            h = gd.sigmoid(gd.matmul(W1, x))
        with gd.name_scope("output"):
            W2 = gd.Variable(np.zeros((2, 4), "float32"), name="W2")
            yhat = gd.softmax(gd.matmul(W2, h), axis=0, name="yhat")
    return graph, x, yhat


def seed004_graph():
    graph, x, yhat = build_seed004_graph()
    x_val = np.linspace(-1, 1, 10, dtype="float32").reshape(10, 1)
    out = gd.Session(graph).run(yhat, {x: x_val})
    print(f"seed 004 graph: {len(graph.nodes)} nodes; yhat = {out.ravel()} "
          "(zero weights: both classes 0.5)")
    assert np.allclose(out, 0.5)


def train_xor(steps=300):
    graph, x, y, loss, prediction, train = build_xor_mlp()
    sess = gd.Session(graph)
    print("\ntraining an MLP (2-4-1, tanh, sigmoid output) on XOR by gradient descent")
    for step in range(steps + 1):
        value, _ = sess.run([loss, train], {x: INPUTS, y: TARGETS})
        if step % 50 == 0:
            print(f"  step {step:4d}  loss {value:.4f}")
    predictions = sess.run(prediction, {x: INPUTS}).ravel()
    for inp, p, t in zip(INPUTS, predictions, TARGETS.ravel()):
        print(f"  XOR{tuple(int(v) for v in inp)} = {p:.3f}  (target {int(t)})")
    assert np.array_equal(predictions > 0.5, TARGETS.ravel() > 0.5)
    return graph, loss


def render(graph, loss):
    """The trained model's pictures, and the seed 004 path of b1."""
    forward = gd.render(loss, path=OUT / "forward.svg", view="forward",
                        title="XOR MLP: forward graph of the loss")
    backward = gd.render(graph, path=OUT / "backward.svg", view="backward",
                         title="XOR MLP: gradients and SGD updates")
    assert "->" in forward and "->" in backward
    print(f"\npictures: {OUT / 'forward.svg'}  {OUT / 'backward.svg'}")
    print("\nseed 004, the path of b1 (scalar softmax regression):")
    seed004_path_of_b1.main(OUT)


def main():
    seed004_graph()
    graph, loss = train_xor()
    render(graph, loss)


if __name__ == "__main__":
    main()
