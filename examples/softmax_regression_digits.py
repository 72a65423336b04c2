"""Softmax regression on the 8×8 digits: ŷ = softmax(W x + b), trained by SGD.

The seed 004 model (one linear layer and a softmax, cross-entropy loss) at the
scale of a real data set: 64 pixels in, 10 classes out, mini-batch gradient
descent. A linear classifier already separates most digits.
"""

import sys
from pathlib import Path

import graphdl as gd

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import parse_args, report, write_graphs  # noqa: E402

L = gd.nn


def build_model():
    return L.Sequential([L.Flatten(), L.Dense(10, activation="softmax")],
                        name="softmax_regression", seed=0)


def main(argv=None):
    args = parse_args(__doc__, argv)
    (x_train, y_train), (x_test, y_test) = gd.data.load_digits()
    model = build_model()
    model.compile(gd.optim.SGD(0.5), "sparse_categorical_crossentropy", ["accuracy"],
                  backend=args.backend)
    epochs = 3 if args.quick else 30
    history = model.fit(x_train, y_train, epochs=epochs, batch_size=32, verbose=0)
    loss, accuracy = model.evaluate(x_test, y_test)
    print(f"{args.backend}: {epochs} epochs, {sum(history.epoch_times):.1f} s; "
          f"test loss {loss:.4f}")
    report("test accuracy", accuracy, 0.85 if args.quick else 0.95)
    write_graphs(model.loss, model.graph, args.out, "softmax regression")
    return accuracy


if __name__ == "__main__":
    main()
