"""The Keras MNIST CNN of seed 002 (§4.5) on the 8×8 digits.

    model = Sequential([Conv2D(32, 3, activation="relu"), MaxPool2D(2),
                        Conv2D(64, 3, activation="relu"), MaxPool2D(2),
                        Flatten(), Dropout(0.5), Dense(10, activation="softmax")])
    model.compile(loss="categorical_crossentropy", optimizer="adam", metrics=["accuracy"])
    model.fit(x_train, y_train, batch_size=..., epochs=..., validation_split=0.1)

Two changes for 8×8 images: the convolutions pad ("same"), since two unpadded 3×3
convolutions and two poolings do not fit in 8 pixels, and the images are NCHW
(N, 1, 8, 8), graphdl's default layout (``data_format="NHWC"`` takes Keras'
(N, 8, 8, 1) instead). Labels are one-hot, as the seed's ``to_categorical``.
Target: at least 97% test accuracy.
"""

import sys
from pathlib import Path

import numpy as np

import graphdl as gd

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import parse_args, report, write_graphs  # noqa: E402

L = gd.nn


def build_model(seed=0):
    return L.Sequential([
        L.Conv2D(32, kernel_size=3, padding="same", activation="relu"),
        L.MaxPool2D(pool_size=2),
        L.Conv2D(64, kernel_size=3, padding="same", activation="relu"),
        L.MaxPool2D(pool_size=2),
        L.Flatten(),
        L.Dropout(0.5),
        L.Dense(10, activation="softmax"),
    ], name="cnn", seed=seed)


def load():
    """Digits as (N, 1, 8, 8) images with one-hot labels: ((x, y), (x, y), test labels)."""
    (x_train, y_train), (x_test, y_test) = gd.data.load_digits()
    onehot = np.eye(10, dtype="float32")
    return ((x_train[:, None], onehot[y_train]), (x_test[:, None], onehot[y_test]))


def train(backend, epochs, verbose=0, limit=None):
    """Compile and fit the CNN (on the first ``limit`` training images when given);
    returns (model, history, test loss, test accuracy)."""
    (x_train, y_train), (x_test, y_test) = load()
    x_train, y_train = x_train[:limit], y_train[:limit]
    model = build_model()
    model.compile(loss="categorical_crossentropy", optimizer=gd.optim.Adam(0.002),
                  metrics=["accuracy"], backend=backend)
    history = model.fit(x_train, y_train, batch_size=32, epochs=epochs,
                        validation_split=0.1, verbose=verbose)
    loss, accuracy = model.evaluate(x_test, y_test)
    return model, history, loss, accuracy


def main(argv=None):
    args = parse_args(__doc__, argv)
    epochs = 2 if args.quick else 15
    model, history, loss, accuracy = train(args.backend, epochs,
                                           limit=500 if args.quick else None)
    print(f"{args.backend}: {epochs} epochs, {np.mean(history.epoch_times):.2f} s per epoch; "
          f"test loss {loss:.4f}")
    report("test accuracy", accuracy, 0.5 if args.quick else 0.97)
    history.plot(args.out / "curves.png", title="Keras CNN (seed 002) on digits")
    write_graphs(model.loss, model.graph, args.out, "Keras CNN")
    return accuracy


if __name__ == "__main__":
    main()
