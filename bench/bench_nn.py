"""Training time of the examples' Keras-style models on every registered backend.

For each model (the seed 002 MLP and CNN on the 8×8 digits, an LSTM over 20 steps)
and each backend: one warm-up epoch (compilation, caches), then ``rounds`` epochs
timed one at a time, the backends interleaved round by round so that a busy machine
slows them alike; the table gives the median seconds per epoch and its ratio to the
NumPy reference measured in the same run. Usage:
``python bench/bench_nn.py [rounds] [backend ...]``.
"""

import statistics
import sys
import time
from pathlib import Path

import graphdl as gd

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "examples"))
import keras_cnn_digits  # noqa: E402
import keras_mlp_digits  # noqa: E402
from lstm_long_range import marked_sign_task  # noqa: E402

L = gd.nn


def _digits(images):
    (x, y), _ = gd.data.load_digits()
    return (x[:, None] if images else x), y


def workloads():
    """name -> (model factory, X, Y, batch size)."""
    x_seq, y_seq = marked_sign_task(1000, 20, seed=0)
    return {
        "MLP (seed 002), digits": (keras_mlp_digits.build_model, *_digits(False), 32),
        "CNN (seed 002), digits": (keras_cnn_digits.build_model, *_digits(True), 32),
        "LSTM(16), 20 steps": (
            lambda: L.Sequential([L.LSTM(16), L.Dense(2, activation="softmax")], seed=0),
            x_seq, y_seq, 64),
    }


def main(argv):
    rounds = int(argv[0]) if argv else 3
    backends = argv[1:] or gd.backends.available_backends()
    print(f"{len(backends)} backend(s): {', '.join(backends)}; median of {rounds} epochs")
    print(f"{'model':<26}{'backend':<10}{'s/epoch':>10}{'vs numpy':>10}")
    for name, (build, X, Y, batch) in workloads().items():
        models = {}
        for b in backends:
            model = build()
            model.compile("adam", "sparse_categorical_crossentropy", ["accuracy"], backend=b)
            model.fit(X, Y, epochs=1, batch_size=batch, verbose=0)  # warm-up
            models[b] = model
        times = {b: [] for b in backends}
        for _ in range(rounds):
            for b in backends:
                start = time.perf_counter()
                models[b].fit(X, Y, epochs=1, batch_size=batch, verbose=0)
                times[b].append(time.perf_counter() - start)
        base = statistics.median(times["numpy"]) if "numpy" in times else None
        for b in backends:
            med = statistics.median(times[b])
            ratio = f"{base / med:.2f}x" if base else "-"
            print(f"{name:<26}{b:<10}{med:>10.3f}{ratio:>10}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
