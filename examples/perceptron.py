"""Rosenblatt's perceptron learns AND and OR, and cannot learn XOR (seed 000, §6.2.1.1).

The perceptron computes o = step(W·x + b) with the Heaviside step
(1 for z ≥ 0, else 0) and learns with the perceptron rule, one sample at a
time:  W ← W + α (y − o) x,  b ← b + α (y − o).  The step has no gradient,
so the update is written directly as assignment ops, not with gd.gradients.
Training stops after the first epoch with no error. XOR is not linearly
separable — no line puts (0, 1) and (1, 0) on one side and (0, 0), (1, 1) on
the other — so on XOR every epoch still has a mistake, however long it runs.
"""

import sys
from pathlib import Path

import numpy as np

import graphdl as gd

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import parse_args, write_graphs  # noqa: E402

INPUTS = np.array([[0, 0], [0, 1], [1, 0], [1, 1]], dtype="float32")
TARGETS = {"AND": np.array([0, 0, 0, 1], "float32"), "OR": np.array([0, 1, 1, 1], "float32")}
XOR = np.array([0, 1, 1, 0], "float32")


def build_perceptron(learning_rate=0.1, seed=0):
    """The graph: returns (graph, x, y, o, error, train, W, b)."""
    graph = gd.Graph(seed=seed)
    with graph.as_default():
        x = gd.placeholder((2,), name="x")
        y = gd.placeholder((), name="y")
        W = gd.Variable(gd.initializers.uniform((2,), -1.0, 1.0), name="W")
        b = gd.Variable(0.0, name="b")
        z = gd.sum(W * x) + b
        o = gd.cast(z >= 0.0, "float32", name="o")  # Heaviside step
        error = y - o
        with gd.name_scope("perceptron_rule"):
            train = gd.group(gd.assign_add(W, learning_rate * error * x),
                             gd.assign_add(b, learning_rate * error))
    return graph, x, y, o, error, train, W, b


def train_perceptron(targets, learning_rate=0.1, max_epochs=100, seed=0, backend="numpy"):
    """Train on the 4 boolean inputs; return (weights, bias, epochs, predictions, graph)."""
    graph, x, y, o, error, train, W, b = build_perceptron(learning_rate, seed)
    sess = gd.Session(graph, backend=backend)
    epochs = 0
    while epochs < max_epochs:
        epochs += 1
        mistakes = 0
        for xi, yi in zip(INPUTS, targets):
            err, _ = sess.run([error, train], {x: xi, y: yi})
            mistakes += int(err != 0)
        if mistakes == 0:
            break
    predictions = np.array([sess.run(o, {x: xi}) for xi in INPUTS])
    return sess.run(W), float(sess.run(b)), epochs, predictions, (graph, o)


def main(argv=None):
    args = parse_args(__doc__, argv)
    for name, targets in TARGETS.items():
        W, b, epochs, predictions, (graph, o) = train_perceptron(targets, backend=args.backend)
        print(f"{name}: W={np.round(W, 3)} b={b:.3f} learned in {epochs} epochs, "
              f"predictions {predictions.astype(int)}")
        assert np.array_equal(predictions, targets), f"perceptron failed to learn {name}"
    max_epochs = 20 if args.quick else 200
    W, b, epochs, predictions, _ = train_perceptron(XOR, max_epochs=max_epochs,
                                                    backend=args.backend)
    wrong = int(np.sum(predictions != XOR))
    print(f"XOR: after {epochs} epochs W={np.round(W, 3)} b={b:.3f}, predictions "
          f"{predictions.astype(int)} (targets {XOR.astype(int)}): {wrong} wrong")
    assert epochs == max_epochs and wrong >= 1, "a perceptron cannot represent XOR"
    write_graphs(o, graph, args.out, "perceptron", backward_view="all")
    return True


if __name__ == "__main__":
    main()
