"""Regenerate the pictures of docs/tutorial.md into docs/img/tutorial/.

    .venv/bin/python docs/make_tutorial_pictures.py

Each picture draws a model of the examples (examples/*.py) built fresh with a
fixed seed, so the committed SVGs do not change from run to run; the training
curves come from a short, seeded run of the seed 002 MLP.
"""

import sys
from pathlib import Path

import numpy as np

import graphdl as gd

DOCS = Path(__file__).resolve().parent
IMG = DOCS / "img" / "tutorial"
MAX_BYTES = 80_000
sys.path.insert(0, str(DOCS.parent / "examples"))
import keras_cnn_digits  # noqa: E402
import keras_mlp_digits  # noqa: E402
from perceptron import build_perceptron  # noqa: E402

L = gd.nn


def _built(model, x, y):
    """The model with its training graph built (loss, gradients, optimizer)."""
    model.compile(gd.optim.Adam(), "sparse_categorical_crossentropy", ["accuracy"],
                  backend="numpy")
    model.evaluate(x, y)
    return model


def pictures():
    """(file name, what, render options) for every picture."""
    graph, x, y, o, error, train, W, b = build_perceptron()
    digits = np.zeros((2, 1, 8, 8), "float32"), np.zeros(2, "int64")
    cnn = _built(keras_cnn_digits.build_model(), *digits)
    seq = np.zeros((2, 3, 2), "float32"), np.zeros(2, "int64")
    lstm = _built(L.Sequential([L.LSTM(4), L.Dense(2, activation="softmax")], name="lstm"),
                  *seq)
    elman = _built(L.Sequential([L.SimpleRNN(4), L.Dense(2, activation="softmax")],
                                name="elman"), *seq)
    return [
        ("perceptron.svg", graph, {"title": "the perceptron and its learning rule"}),
        ("cnn_forward.svg", cnn.output,
         {"view": "forward", "title": "seed 002 CNN: forward graph"}),
        ("cnn_training.svg", cnn.graph,
         {"depth": 0, "title": "seed 002 CNN: the training step, scopes collapsed"}),
        ("elman_forward.svg", elman.output,
         {"view": "forward", "title": "Elman RNN unrolled over 3 steps"}),
        ("lstm_forward.svg", lstm.output,
         {"view": "forward", "title": "LSTM unrolled over 3 steps"}),
        ("elman_backward.svg", elman.loss,
         {"view": "backward", "depth": 2, "title": "Elman RNN: backpropagation through time"}),
    ]


def curves():
    (x_train, y_train), _ = gd.data.load_digits()
    model = keras_mlp_digits.build_model()
    model.compile("adam", "sparse_categorical_crossentropy", ["accuracy"], backend="numpy")
    history = model.fit(x_train, y_train, epochs=8, validation_split=0.1, verbose=0)
    history.plot(IMG / "mlp_curves.png", title="seed 002 MLP on the 8x8 digits")


def main():
    IMG.mkdir(parents=True, exist_ok=True)
    for name, what, options in pictures():
        gd.render(what, path=IMG / name, **options)
        size = (IMG / name).stat().st_size
        print(f"{IMG / name}: {size // 1000} KB")
        if size > MAX_BYTES:
            sys.exit(f"{name} is {size} bytes; keep pictures under {MAX_BYTES}")
    curves()
    print(IMG / "mlp_curves.png")


if __name__ == "__main__":
    main()
