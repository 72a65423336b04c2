"""A GRU (Cho et al. 2014; seed 000, §6.4) learns the marked-sign task over 40 steps.

The task of ``lstm_long_range.py``: remember the sign of the value marked at the
first step while 39 more noise values arrive. The GRU keeps its state with the
update gate, h(t) = z ∘ h(t−1) + (1 − z) ∘ n(t), and shields it from the noise by
learning to close z's complement after the marker. Its update-gate bias starts
at 3 (z ≈ 0.95) so the state — and the gradient — lasts from the first step;
with the usual 0 (z ≈ 0.5) the first value fades as 0.5 per step and the same
network stays at chance. Target: at least 90% test accuracy (chance is 50%).
"""

import sys
from pathlib import Path

import numpy as np

import graphdl as gd

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import parse_args, report, write_short_graphs  # noqa: E402
from lstm_long_range import marked_sign_task  # noqa: E402

L = gd.nn
COMPILE = (gd.optim.Adam(0.01), "sparse_categorical_crossentropy", ["accuracy"])


def build_model():
    return L.Sequential([L.GRU(16, update_bias=3.0), L.Dense(2, activation="softmax")],
                        name="gru", seed=0)


def main(argv=None):
    args = parse_args(__doc__, argv)
    steps, n, epochs = (15, 1000, 3) if args.quick else (40, 3000, 5)
    x_train, y_train = marked_sign_task(n, steps, seed=0)
    x_test, y_test = marked_sign_task(500, steps, seed=1)
    model = build_model()
    model.compile(*COMPILE, backend=args.backend)
    history = model.fit(x_train, y_train, epochs=epochs, batch_size=64, verbose=0)
    loss, accuracy = model.evaluate(x_test, y_test)
    print(f"{args.backend}: {steps} steps, {epochs} epochs, "
          f"{np.mean(history.epoch_times):.2f} s per epoch; test loss {loss:.4f}")
    report("test accuracy", accuracy, 0.55 if args.quick else 0.90)
    write_short_graphs(build_model, COMPILE, x_test, y_test, args.out, "GRU")
    return accuracy


if __name__ == "__main__":
    main()
