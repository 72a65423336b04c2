"""Rosenblatt's perceptron learns AND and OR (seed 000, §6.2.1.1).

The perceptron computes o = step(W·x + b) with the Heaviside step
(1 for z ≥ 0, else 0) and learns with the perceptron rule, one sample at a
time:  W ← W + α (y − o) x,  b ← b + α (y − o).  The step has no gradient,
so the update is written directly as assignment ops, not with gd.gradients.
Training stops after the first epoch with no error.
"""

import numpy as np

import graphdl as gd

INPUTS = np.array([[0, 0], [0, 1], [1, 0], [1, 1]], dtype="float32")
TARGETS = {"AND": np.array([0, 0, 0, 1], "float32"), "OR": np.array([0, 1, 1, 1], "float32")}


def train_perceptron(targets, learning_rate=0.1, max_epochs=100, seed=0):
    """Train on the 4 boolean inputs; return (weights, bias, epochs, predictions)."""
    graph = gd.Graph(seed=seed)
    with graph.as_default():
        x = gd.placeholder((2,), name="x")
        y = gd.placeholder((), name="y")
        W = gd.Variable(gd.initializers.uniform((2,), -1.0, 1.0), name="W")
        b = gd.Variable(0.0, name="b")
        z = gd.sum(W * x) + b
        o = gd.cast(z >= 0.0, "float32")  # Heaviside step
        error = y - o
        train = gd.group(gd.assign_add(W, learning_rate * error * x),
                         gd.assign_add(b, learning_rate * error))
    sess = gd.Session(graph)
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
    return sess.run(W), float(sess.run(b)), epochs, predictions


def main():
    for name, targets in TARGETS.items():
        W, b, epochs, predictions = train_perceptron(targets)
        print(f"{name}: W={np.round(W, 3)} b={b:.3f} learned in {epochs} epochs, "
              f"predictions {predictions.astype(int)}")
        assert np.array_equal(predictions, targets), f"perceptron failed to learn {name}"
    return True


if __name__ == "__main__":
    main()
