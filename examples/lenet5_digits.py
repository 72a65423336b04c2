"""LeNet-5 (seed 000, §6.3; LeCun et al. 1998) on the 8×8 digits.

Seven layers with parameters: two blocks of convolution and (average) pooling —
the "subsampling" of the original — then three dense layers, tanh throughout and
a softmax output: C1 6@5×5, S2 2×2, C3 16@3×3, S4 2×2, F5 120, F6 84, output 10.
The original reads 32×32 images; on 8×8 digits the convolutions pad ("same") so
the two poolings leave 16 maps of 2×2. Trained with SGD and momentum (seed 003).
Target: at least 95% test accuracy.
"""

import sys
from pathlib import Path

import numpy as np

import graphdl as gd

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import parse_args, report, write_graphs  # noqa: E402

L = gd.nn


def build_model():
    return L.Sequential([
        L.Conv2D(6, 5, padding="same", activation="tanh", name="C1"),
        L.AvgPool2D(2, name="S2"),
        L.Conv2D(16, 3, padding="same", activation="tanh", name="C3"),
        L.AvgPool2D(2, name="S4"),
        L.Flatten(),
        L.Dense(120, activation="tanh", name="F5"),
        L.Dense(84, activation="tanh", name="F6"),
        L.Dense(10, activation="softmax", name="output"),
    ], name="lenet5", seed=0)


def main(argv=None):
    args = parse_args(__doc__, argv)
    (x_train, y_train), (x_test, y_test) = gd.data.load_digits()
    model = build_model()
    model.compile(gd.optim.SGD(0.05, momentum=0.9), "sparse_categorical_crossentropy",
                  ["accuracy"], backend=args.backend)
    epochs = 2 if args.quick else 15
    history = model.fit(x_train[:, None], y_train, epochs=epochs, batch_size=32, verbose=0)
    loss, accuracy = model.evaluate(x_test[:, None], y_test)
    print(f"{args.backend}: {epochs} epochs, {np.mean(history.epoch_times):.2f} s per epoch; "
          f"test loss {loss:.4f}")
    report("test accuracy", accuracy, 0.7 if args.quick else 0.95)
    write_graphs(model.loss, model.graph, args.out, "LeNet-5")
    return accuracy


if __name__ == "__main__":
    main()
