"""An MLP learns XOR by gradient descent (seed 000, §6.2.2: backpropagation).

XOR is not linearly separable, so a single perceptron cannot model it; one
hidden layer can. The training step — forward pass, gradients from
``gd.gradients`` and the update ``W ← W − α ∂E/∂W`` as assignment ops — is a
single graph, run once per step.
"""

import sys
from pathlib import Path

import numpy as np

import graphdl as gd

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import parse_args, write_graphs  # noqa: E402

INPUTS = np.array([[0, 0], [0, 1], [1, 0], [1, 1]], dtype="float32")
TARGETS = np.array([[0], [1], [1], [0]], dtype="float32")


def build_xor_mlp(hidden=4, learning_rate=1.0, seed=0):
    """The graph: returns (graph, x, y, loss, prediction, train_op)."""
    graph = gd.Graph(seed=seed)
    with graph.as_default():
        x = gd.placeholder((None, 2), name="x")
        y = gd.placeholder((None, 1), name="y")
        with gd.name_scope("hidden"):
            W1 = gd.Variable(gd.initializers.glorot_uniform((2, hidden)), name="W")
            b1 = gd.Variable(np.zeros(hidden, "float32"), name="b")
            h = gd.tanh(x @ W1 + b1)
        with gd.name_scope("output"):
            W2 = gd.Variable(gd.initializers.glorot_uniform((hidden, 1)), name="W")
            b2 = gd.Variable(np.zeros(1, "float32"), name="b")
            logits = h @ W2 + b2
            prediction = gd.sigmoid(logits)
        with gd.name_scope("loss"):
            loss = gd.mean(gd.sigmoid_cross_entropy(logits, y))
        params = [W1, b1, W2, b2]
        grads = gd.gradients(loss, params)
        with gd.name_scope("sgd"):
            train = gd.group(*[gd.assign_sub(p, learning_rate * g)
                               for p, g in zip(params, grads)])
    return graph, x, y, loss, prediction, train


def train_xor(steps=300, log_every=50, seed=0, verbose=True, backend="numpy", out=None):
    """Train full-batch; return (losses logged, final predictions). With ``out``, also
    write the forward and backward pictures there."""
    graph, x, y, loss, prediction, train = build_xor_mlp(seed=seed)
    sess = gd.Session(graph, backend=backend)
    feed = {x: INPUTS, y: TARGETS}
    losses = []
    for step in range(steps + 1):
        value, _ = sess.run([loss, train], feed)
        if step % log_every == 0:
            losses.append(float(value))
            if verbose:
                print(f"step {step:4d}  loss {value:.4f}")
    if out is not None:
        write_graphs(loss, graph, out, "XOR MLP")
    return losses, sess.run(prediction, {x: INPUTS})


def main(argv=None):
    args = parse_args(__doc__, argv)
    losses, predictions = train_xor(backend=args.backend, out=args.out)
    print("predictions:", np.round(predictions.ravel(), 3), "targets:", TARGETS.ravel())
    assert losses[-1] < losses[0] / 5, "loss did not go down"
    assert np.array_equal(predictions.ravel() > 0.5, TARGETS.ravel() > 0.5), "XOR not solved"
    return True


if __name__ == "__main__":
    main()
