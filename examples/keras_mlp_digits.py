"""The Keras MLP of seed 002 (§4.4) on the 8×8 digits.

    model = Sequential([Flatten(input_shape=(8, 8)), Dense(128, activation="relu"),
                        Dropout(0.2), Dense(10, activation="softmax")])
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy",
                  metrics=["accuracy"])
    model.fit(x_train, y_train, epochs=...);  model.evaluate(x_test, y_test)

The seed trains on 28×28 MNIST; the 8×8 digits bundled with scikit-learn need
no download (``gd.data.load_mnist`` reads MNIST's own files when you have them).
Target: at least 96% test accuracy.
"""

import sys
from pathlib import Path

import graphdl as gd

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import parse_args, report, write_graphs  # noqa: E402

L = gd.nn


def build_model():
    return L.Sequential([
        L.Flatten(input_shape=(8, 8)),
        L.Dense(128, activation="relu"),
        L.Dropout(0.2),
        L.Dense(10, activation="softmax"),
    ], name="mlp", seed=0)


def main(argv=None):
    args = parse_args(__doc__, argv)
    (x_train, y_train), (x_test, y_test) = gd.data.load_digits()
    model = build_model()
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy",
                  metrics=["accuracy"], backend=args.backend)
    epochs = 3 if args.quick else 25
    history = model.fit(x_train, y_train, epochs=epochs, batch_size=32,
                        validation_split=0.1, verbose=0)
    loss, accuracy = model.evaluate(x_test, y_test)
    print(f"{args.backend}: {epochs} epochs, {sum(history.epoch_times):.1f} s; "
          f"validation accuracy {history.history['val_accuracy'][-1]:.4f}; "
          f"test loss {loss:.4f}")
    report("test accuracy", accuracy, 0.8 if args.quick else 0.96)
    history.plot(args.out / "curves.png", title="Keras MLP (seed 002) on digits")
    write_graphs(model.loss, model.graph, args.out, "Keras MLP")
    return accuracy


if __name__ == "__main__":
    main()
