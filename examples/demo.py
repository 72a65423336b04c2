"""`make demo`: the seed 004 graph, then an MLP trained on XOR, with pictures.

1. Builds the TensorFlow graph of seed 004 — x[10,1], W1[4,10], sigmoid,
   W2[2,4], softmax — and runs it once.
2. Trains an MLP on XOR with gd.gradients and assignment ops, printing the
   loss going down and the final predictions.
3. Renders the trained model's forward and backward graphs to out/*.svg.
"""

import sys
from pathlib import Path

import numpy as np

import graphdl as gd

sys.path.insert(0, str(Path(__file__).resolve().parent))
from xor_mlp import INPUTS, TARGETS, build_xor_mlp  # noqa: E402

OUT = Path("out")


def seed004_graph():
    """The slide's graph: yhat = softmax(W2 · sigmoid(W1 · x)), zero-initialized."""
    graph = gd.Graph()
    with graph.as_default():
        x = gd.placeholder((10, 1), name="x")
        W1 = gd.Variable(np.zeros((4, 10), "float32"), name="W1")
        v = gd.matmul(W1, x)
        h = gd.sigmoid(v)
        W2 = gd.Variable(np.zeros((2, 4), "float32"), name="W2")
        z = gd.matmul(W2, h)
        yhat = gd.softmax(z, axis=0)
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
    try:
        from graphdl.viz import render as render_graph
    except ImportError:  # rendering not available in this build
        return
    OUT.mkdir(exist_ok=True)
    forward = render_graph(loss, path=OUT / "forward.svg", view="forward")
    backward = render_graph(graph, path=OUT / "backward.svg", view="backward")
    assert forward and backward
    print(f"\npictures: {OUT / 'forward.svg'}  {OUT / 'backward.svg'}")


def main():
    seed004_graph()
    graph, loss = train_xor()
    render(graph, loss)


if __name__ == "__main__":
    main()
