"""Regenerate every picture docs/rendering.md and README.md show, into docs/img/.

    .venv/bin/python docs/make_pictures.py              # all pictures
    .venv/bin/python docs/make_pictures.py xor_both     # only the ones named

Each picture is one entry of PICTURES: a function that builds a small graph
and returns what to draw and the ``gd.render`` options. The SVGs are
committed, so the output must not change from run to run: graphs are built
fresh for each picture, nothing random is drawn (only names and shapes), and
Graphviz lays out the same DOT the same way every time.
"""

import sys
from pathlib import Path

import numpy as np

import graphdl as gd

DOCS = Path(__file__).resolve().parent
IMG = DOCS / "img"
MAX_BYTES = 64_000  # keep the committed pictures small (about 60 KB at most)

sys.path.insert(0, str(DOCS.parent / "examples"))
from demo import build_seed004_graph  # noqa: E402
from seed004_path_of_b1 import build_scalar_graph  # noqa: E402
from xor_mlp import build_xor_mlp  # noqa: E402

# -- the graphs ---------------------------------------------------------------

def build_xor_gradients():
    """examples/xor_mlp.py up to ``gd.gradients`` (no SGD step): dict of tensors."""
    graph = gd.Graph(seed=0)
    with graph.as_default():
        x = gd.placeholder((None, 2), name="x")
        y = gd.placeholder((None, 1), name="y")
        with gd.name_scope("hidden"):
            W1 = gd.Variable(gd.initializers.glorot_uniform((2, 4)), name="W")
            b1 = gd.Variable(np.zeros(4, "float32"), name="b")
            xw1 = x @ W1
            z1 = xw1 + b1
            h = gd.tanh(z1)
        with gd.name_scope("output"):
            W2 = gd.Variable(gd.initializers.glorot_uniform((4, 1)), name="W")
            b2 = gd.Variable(np.zeros(1, "float32"), name="b")
            hw2 = h @ W2
            logits = hw2 + b2
        with gd.name_scope("loss"):
            per_example = gd.sigmoid_cross_entropy(logits, y)
            loss = gd.mean(per_example)
        grads = gd.gradients(loss, [W1, b1, W2, b2])
    return dict(graph=graph, x=x, y=y, xw1=xw1, z1=z1, h=h, hw2=hw2, logits=logits,
                per_example=per_example, loss=loss, grads=grads)


def build_conv_net():
    """A tiny NCHW conv net for 28x28 images: the loss and the predicted class."""
    graph = gd.Graph(seed=0)
    with graph.as_default():
        images = gd.placeholder((None, 1, 28, 28), name="images")
        labels = gd.placeholder((None,), dtype="int64", name="labels")
        with gd.name_scope("conv"):
            w = gd.Variable(gd.initializers.he_normal((8, 1, 3, 3)), name="w")  # OIHW
            h = gd.relu(gd.conv2d(images, w, stride=2, padding="same"))
        with gd.name_scope("pool"):
            p = gd.max_pool2d(h, size=2)
        with gd.name_scope("dense"):
            W = gd.Variable(gd.initializers.glorot_uniform((8 * 7 * 7, 10)), name="W")
            b = gd.Variable(np.zeros(10, "float32"), name="b")
            logits = gd.flatten(p) @ W + b
        with gd.name_scope("loss"):
            onehot = gd.one_hot(labels, 10)
            loss = gd.mean(gd.softmax_cross_entropy(logits, onehot))
        predicted = gd.argmax(logits, axis=1, name="predicted")
    return [loss, predicted]


# -- the pictures: name -> () -> (what, render options) ---------------------

def seed004_tf_graph():
    graph, _x, _yhat = build_seed004_graph()
    return graph, dict(title="seed 004: yhat = softmax(W2 · sigmoid(W1 · x))")


def xor_forward():
    t = build_xor_gradients()
    return t["loss"], dict(view="forward")


def xor_all():
    t = build_xor_gradients()
    return [t["loss"], *t["grads"]], dict(view="all")


def xor_backward():
    t = build_xor_gradients()
    return t["loss"], dict(view="backward")


def xor_both():
    t = build_xor_gradients()
    return t["loss"], dict(view="both", legend=False)  # the legend would push it over 60 KB


def xor_depth0():
    graph = build_xor_mlp()[0]  # the whole training graph, SGD updates included
    return graph, dict(depth=0)


def xor_depth1():
    graph = build_xor_mlp()[0]
    return graph, dict(depth=1)


def xor_lr():
    t = build_xor_gradients()
    return t["loss"], dict(view="forward", rankdir="LR", legend=False)


def xor_no_labels():
    t = build_xor_gradients()
    return t["loss"], dict(view="forward", edge_labels=False, legend=False)


def xor_highlight_one():
    t = build_xor_gradients()
    return t["loss"], dict(view="forward", highlight=t["h"],
                           title="highlight=h: everything h depends on")


def seed004_path_b1():
    _graph, t = build_scalar_graph()
    return t["L"], dict(view="forward", highlight=(t["b1"], t["L"]),
                        title="the path of b1 to L")


def seed004_grad_b1():
    _graph, t = build_scalar_graph()
    return t["dL_db1"], dict(view="backward", highlight=t["dL_db1"],
                             title="how ∂L/∂b1 is computed")


def groups():
    t = build_xor_gradients()
    # sigmoid_cross_entropy is built from several nodes (softplus, mul, sub, ...): a group
    # holds only the nodes named, so name all of them (every loss node but the mean)
    cross_entropy = [n.outputs[0] for n in t["graph"].nodes
                     if n.scope == "loss" and n.op.name != "mean"]
    kernels = {
        "kernel 0": [t["xw1"], t["z1"], t["h"]],
        "kernel 1": [t["hw2"], t["logits"], *cross_entropy],
    }
    return t["loss"], dict(view="forward", groups=kernels, legend=False,
                           title="two fused kernels")


def conv_net():
    return build_conv_net(), dict(title="a small conv net (NCHW)")


PICTURES = {f.__name__: f for f in (
    seed004_tf_graph, xor_forward, xor_all, xor_backward, xor_both, xor_depth0, xor_depth1,
    xor_lr, xor_no_labels, xor_highlight_one, seed004_path_b1, seed004_grad_b1, groups,
    conv_net,
)}


def main(names=None):
    names = names or list(PICTURES)
    unknown = [n for n in names if n not in PICTURES]
    if unknown:
        sys.exit(f"unknown picture(s): {', '.join(unknown)}; choose from {', '.join(PICTURES)}")
    too_big = []
    for name in names:
        what, options = PICTURES[name]()
        path = IMG / f"{name}.svg"
        gd.render(what, path=path, **options)
        size = path.stat().st_size
        print(f"{path.relative_to(DOCS.parent)}  {size / 1000:.1f} KB")
        if size > MAX_BYTES:
            too_big.append(name)
    if too_big:
        sys.exit(f"over {MAX_BYTES // 1000} KB: {', '.join(too_big)}; draw a smaller graph")


if __name__ == "__main__":
    main(sys.argv[1:])
