"""Seed 004's "caminho de b1": the path by which the loss depends on the bias b1.

The slides break softmax regression into scalars for one example —
z = W x + b, h = exp(z), H = h1 + h2, ŷ = h / H, L = −Σ y log ŷ — draw the
graph of L, trace the path from b1 to L, and derive ∂L/∂b1 = ŷ1 − y1 along it.
This example builds that scalar graph, checks the derivative graphdl computes
against the slides' formula (−0.19 for the first example), and draws the path
in the forward graph and in the gradient graph.

    python examples/seed004_path_of_b1.py [OUT_DIR] [--backend NAME]
"""

from pathlib import Path

import numpy as np

import graphdl as gd

X1 = (0.2, 0.7)  # the first example of the slides' batch, label class 1
Y1 = (1.0, 0.0)
W = ((1.3, 1.0), (1.35, -1.1))  # the reconstruction used in seed004_softmax_regression.py


def build_scalar_graph():
    """The slides' scalar graph of L; returns (graph, dict of named tensors)."""
    graph = gd.Graph()
    with graph.as_default():
        x1, x2 = (gd.placeholder((), name=f"x{i}") for i in (1, 2))
        y1, y2 = (gd.placeholder((), name=f"y{i}") for i in (1, 2))
        w = {(i, k): gd.Variable(np.float32(W[i - 1][k - 1]), name=f"w{i}{k}")
             for i in (1, 2) for k in (1, 2)}
        b1, b2 = (gd.Variable(np.float32(0), name=f"b{i}") for i in (1, 2))
        z1 = gd.add(w[1, 1] * x1 + w[1, 2] * x2, b1, name="z1")
        z2 = gd.add(w[2, 1] * x1 + w[2, 2] * x2, b2, name="z2")
        h1, h2 = gd.exp(z1, name="h1"), gd.exp(z2, name="h2")
        H = gd.add(h1, h2, name="H")
        yhat1, yhat2 = gd.div(h1, H, name="yhat1"), gd.div(h2, H, name="yhat2")
        L = gd.neg(y1 * gd.log(yhat1) + y2 * gd.log(yhat2), name="L")
        dL_db1 = gd.gradients(L, b1)
    return graph, dict(x1=x1, x2=x2, y1=y1, y2=y2, b1=b1, yhat1=yhat1, L=L, dL_db1=dL_db1)


def main(out_dir=None, backend="numpy"):
    graph, t = build_scalar_graph()
    feed = {t["x1"]: X1[0], t["x2"]: X1[1], t["y1"]: Y1[0], t["y2"]: Y1[1]}
    yhat1, grad = gd.Session(graph, backend=backend).run([t["yhat1"], t["dL_db1"]], feed)
    print(f"ŷ1 = {yhat1:.4f}; ∂L/∂b1 = {grad:.4f} = ŷ1 − y1 = {yhat1 - Y1[0]:.4f} "
          "(slides: −0.19)")
    assert np.isclose(grad, yhat1 - Y1[0], rtol=1e-6) and round(float(grad), 2) == -0.19
    if out_dir is not None:
        out = Path(out_dir)
        gd.render(t["L"], path=out / "seed004_path_b1.svg", view="forward",
                  highlight=(t["b1"], t["L"]), title="the path of b1 to L")
        gd.render(graph, path=out / "seed004_grad_b1.svg", view="backward",
                  highlight=t["dL_db1"], title="how ∂L/∂b1 is computed")
        print(f"pictures: {out / 'seed004_path_b1.svg'}  {out / 'seed004_grad_b1.svg'}")
    return grad


if __name__ == "__main__":
    import argparse
    parser = argparse.ArgumentParser(description=__doc__.strip().splitlines()[0])
    parser.add_argument("out_dir", nargs="?", default=None, help="folder for the pictures")
    parser.add_argument("--backend", default="numpy", help="Session backend")
    options = parser.parse_args()
    main(options.out_dir, options.backend)
