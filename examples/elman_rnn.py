"""An Elman RNN trained by backpropagation through time (seed 000, Algorithm 3).

The task is a delayed echo: the input is a random bit sequence and the target at
step t is the input at step t - 2, y(t) = x(t−2) (0 for the first two steps), so
the network must carry two bits in its hidden state. The model is the algorithm's:

    h(t) = tanh(We x(t) + Wh h(t−1) + be)     SimpleRNN(16, return_sequences=True)
    o(t) = σ(Ws h(t) + bs)                     Dense(1, activation="sigmoid")

and the loss sums the error over every step (equation 19; here its mean). The
layer is unrolled over the 12 steps, so BPTT is the ordinary reverse pass of
``gd.gradients`` through the unrolled graph with its shared weights.
Target: at least 98% of the output bits right.
"""

import sys
from pathlib import Path

import numpy as np

import graphdl as gd

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import parse_args, report, write_graphs  # noqa: E402

L = gd.nn
STEPS, DELAY = 12, 2


def echo_task(n, seed):
    """(x (n, STEPS, 1) random bits, y (n, STEPS, 1) = x delayed by DELAY steps)."""
    rng = np.random.default_rng(seed)
    x = rng.integers(0, 2, (n, STEPS, 1)).astype("float32")
    y = np.zeros_like(x)
    y[:, DELAY:] = x[:, :-DELAY]
    return x, y


def main(argv=None):
    args = parse_args(__doc__, argv)
    x_train, y_train = echo_task(400 if args.quick else 2000, seed=0)
    x_test, y_test = echo_task(500, seed=1)
    model = L.Sequential([L.SimpleRNN(16, return_sequences=True),
                          L.Dense(1, activation="sigmoid")], name="elman", seed=0)
    model.compile(gd.optim.Adam(0.02), "binary_crossentropy", ["accuracy"],
                  backend=args.backend)
    epochs = 3 if args.quick else 20
    history = model.fit(x_train, y_train, epochs=epochs, batch_size=50, verbose=0)
    loss, accuracy = model.evaluate(x_test, y_test)
    print(f"{args.backend}: {epochs} epochs, {np.mean(history.epoch_times):.2f} s per epoch; "
          f"loss {history.history['loss'][0]:.4f} -> {loss:.4f}")
    report("bits right", accuracy, 0.7 if args.quick else 0.98)
    write_graphs(model.loss, model.graph, args.out, "Elman RNN (12 steps unrolled)")
    return accuracy


if __name__ == "__main__":
    main()
