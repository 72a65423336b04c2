"""An LSTM learns a long-range dependency that an Elman RNN of the same size cannot
(seed 000, §6.4: the LSTM's "constant error carousel").

Each sequence has 60 steps of two inputs: a value drawn uniformly from [-1, 1] at
every step, and a marker that is 1 at the first step only. The class is the sign
of the marked (first) value; the other 59 values are noise of the same size. To
answer, a network must store one number for 60 steps while noise keeps arriving.

* The LSTM's input gate can open on the marker and close afterwards, and its
  forget gate can hold the cell: c(t) = f ∘ c(t−1) + i ∘ g. With the forget bias
  starting at 5 (σ(5) ≈ 0.993 per step, 0.67 over 60 steps) the error reaches the
  first step.
* The Elman RNN, h(t) = tanh(We x(t) + Wh h(t−1) + b), has no gate: every step
  writes the new input into the same state, and the gradient through 60 steps of
  tanh and Wh vanishes, so it stays at chance.

Both have 16 units and are trained the same way: Adam (learning rate 0.003, each
gradient clipped to norm 1, which keeps the occasional huge gradient of a recurrent
net from undoing what it learned), 8 epochs of 4000 sequences.
Targets: LSTM at least 85% test accuracy; Elman RNN at most 65%.
"""

import sys
from pathlib import Path

import numpy as np

import graphdl as gd

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import parse_args, report, write_short_graphs  # noqa: E402

L = gd.nn


def compile_args():
    """The optimizer (a fresh one per model: it owns its slots), loss and metrics."""
    return gd.optim.Adam(0.003, clipnorm=1.0), "sparse_categorical_crossentropy", ["accuracy"]


def build_lstm():
    return L.Sequential([L.LSTM(16, forget_bias=5.0), L.Dense(2, activation="softmax")],
                        name="lstm", seed=0)


def marked_sign_task(n, steps, seed):
    """(x (n, steps, 2): [value, marker], y (n,) int: 1 where the marked value > 0)."""
    rng = np.random.default_rng(seed)
    x = np.zeros((n, steps, 2), "float32")
    x[:, :, 0] = rng.uniform(-1, 1, (n, steps))
    x[:, 0, 1] = 1.0
    return x, (x[:, 0, 0] > 0).astype("int64")


def train(layer, data, epochs, backend, name):
    """A recurrent layer with a softmax classifier on its last state, trained on data."""
    (x_train, y_train), (x_test, y_test) = data
    model = L.Sequential([layer, L.Dense(2, activation="softmax")], name=name, seed=0)
    model.compile(*compile_args(), backend=backend)
    history = model.fit(x_train, y_train, epochs=epochs, batch_size=128, verbose=0)
    loss, accuracy = model.evaluate(x_test, y_test)
    print(f"{name}: {epochs} epochs, {np.mean(history.epoch_times):.2f} s per epoch, "
          f"test loss {loss:.4f}, test accuracy {accuracy:.4f}")
    return model, accuracy


def main(argv=None):
    args = parse_args(__doc__, argv)
    steps, n, epochs = (20, 1000, 3) if args.quick else (60, 4000, 8)
    data = (marked_sign_task(n, steps, seed=0), marked_sign_task(500, steps, seed=1))
    lstm, lstm_accuracy = train(L.LSTM(16, forget_bias=5.0), data, epochs, args.backend,
                                "lstm")
    _, elman_accuracy = train(L.SimpleRNN(16), data, epochs, args.backend, "elman")
    if args.quick:  # 20 steps, a few epochs: both must at least have run and learned
        report("LSTM test accuracy (quick)", lstm_accuracy, 0.55)
    else:
        report("LSTM test accuracy", lstm_accuracy, 0.85)
        report("Elman RNN test accuracy", elman_accuracy, 0.65, higher_is_better=False)
    write_short_graphs(build_lstm, compile_args(), *data[1], args.out, "LSTM")
    return lstm_accuracy, elman_accuracy


if __name__ == "__main__":
    main()
