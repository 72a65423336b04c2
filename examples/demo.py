"""`make demo`: the seed 002 CNN trained on the 8×8 digits, with pictures.

1. Builds the TensorFlow graph of seed 004 — x[10,1], W1[4,10], sigmoid,
   W2[2,4], softmax — runs it once and draws seed 004's "path of b1"
   (out/seed004_*.svg).
2. Trains the Keras CNN of seed 002 on the digits with ``model.fit``: a progress
   bar with the live loss and accuracy per epoch (a line per epoch when the output
   is not a terminal), then prints the test accuracy and the time per epoch.
3. Writes the model's forward and backward graphs (out/forward.svg,
   out/backward.svg) and its loss/accuracy curves (out/curves.png).

The Session backend is the fastest one registered (``--backend`` chooses another);
``--quick`` trains 2 epochs on 500 images (what the tests run).
"""

import sys
from pathlib import Path

import numpy as np

import graphdl as gd

sys.path.insert(0, str(Path(__file__).resolve().parent))
import keras_cnn_digits  # noqa: E402
import seed004_path_of_b1  # noqa: E402
from common import parse_args, report, write_graphs  # noqa: E402

OUT = Path("out")


def build_seed004_graph():
    """The slide's graph: yhat = softmax(W2 · sigmoid(W1 · x)), zero-initialized.

    Returns (graph, x, yhat). Also drawable from the command line:
    ``graphdl render examples/demo.py:build_seed004_graph -o seed004.svg``.
    """
    graph = gd.Graph()
    with graph.as_default():
        x = gd.placeholder((10, 1), name="x")
        with gd.name_scope("hidden"):
            W1 = gd.Variable(np.zeros((4, 10), "float32"), name="W1")
            h = gd.sigmoid(gd.matmul(W1, x))
        with gd.name_scope("output"):
            W2 = gd.Variable(np.zeros((2, 4), "float32"), name="W2")
            yhat = gd.softmax(gd.matmul(W2, h), axis=0, name="yhat")
    return graph, x, yhat


def seed004_graph(backend):
    graph, x, yhat = build_seed004_graph()
    x_val = np.linspace(-1, 1, 10, dtype="float32").reshape(10, 1)
    out = gd.Session(graph, backend=backend).run(yhat, {x: x_val})
    print(f"seed 004 graph: {len(graph.nodes)} nodes; yhat = {out.ravel()} "
          "(zero weights: both classes 0.5)")
    assert np.allclose(out, 0.5)
    print("seed 004, the path of b1 (scalar softmax regression):")
    seed004_path_of_b1.main(OUT, backend)


def train_cnn(backend, epochs, limit=None):
    print(f"\ntraining the seed 002 CNN on the 8x8 digits ({backend} backend)")
    verbose = 1 if sys.stderr.isatty() else 2
    model, history, loss, accuracy = keras_cnn_digits.train(backend, epochs, verbose, limit)
    print(f"test loss {loss:.4f}, time per epoch {np.mean(history.epoch_times):.2f} s")
    return model, history, accuracy


def main(argv=None):
    args = parse_args(__doc__, argv)
    seed004_graph(args.backend)
    model, history, accuracy = train_cnn(args.backend, 2 if args.quick else 15,
                                         limit=500 if args.quick else None)
    report("test accuracy", accuracy, 0.5 if args.quick else 0.97)
    write_graphs(model.loss, model.graph, OUT, "seed 002 CNN")
    history.plot(OUT / "curves.png", title="seed 002 CNN on the 8x8 digits")
    print(f"curves: {OUT / 'curves.png'}")


if __name__ == "__main__":
    main()
