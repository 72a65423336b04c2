"""Random graphs as plain data ("recipes") that hypothesis draws, shrinks and prints.

A recipe is ``{"inputs": [shape, ...], "steps": [step, ...]}``. Each step is a tuple
``(kind, *args)`` whose tensor arguments are indices into the values built so far
(inputs first, then one value per step). :func:`build` turns a recipe into graph
tensors; :func:`recipes` is the hypothesis strategy. Because a recipe is plain data,
a failing case shrinks to a small one and is kept as a regression test by pasting
its printed form into tests/regressions/fuzz_cases.py.

Kinds cover elementwise ops with broadcasting, reductions, matmul, reshape,
transpose, slicing, concat, the softmax family, conv2d and pooling with random
strides and paddings. Inputs are kept off kinks and away from overflow by the ops
chosen (exp only of tanh, division only by 1 + x²).
"""

import math

import numpy as np
from hypothesis import strategies as st

import graphdl as gd

UNARY = {
    "tanh": gd.tanh, "sigmoid": gd.sigmoid, "softplus": gd.softplus, "neg": gd.negative,
    "abs": gd.abs, "relu": gd.relu, "square": lambda x: x * x,
    "exp_tanh": lambda x: gd.exp(gd.tanh(x)),
    "log_softplus": lambda x: gd.log(1.0 + gd.softplus(x)),
}
BINARY = {
    "add": gd.add, "sub": gd.subtract, "mul": gd.multiply, "maximum": gd.maximum,
    "div": lambda a, b: a / (1.0 + b * b),
}
REDUCE = {"sum": gd.sum, "mean": gd.mean, "max": gd.max}
SOFTMAX = {"softmax": gd.softmax, "log_softmax": gd.log_softmax,
           "logsumexp": lambda x, axis: gd.logsumexp(x, axis=axis)}


def constant_data(shape, index):
    """The deterministic data of the ``index``-th constant of a recipe."""
    rng = np.random.default_rng(1000 + index)
    return rng.uniform(-1.5, 1.5, shape)


def input_data(shape, index):
    rng = np.random.default_rng(index)
    return rng.uniform(-2.0, 2.0, shape)


def build(recipe, inputs):
    """The output tensor of ``recipe`` on ``inputs`` (tensors, one per input shape)."""
    values = list(inputs)
    dtype = inputs[0].dtype
    n_const = 0

    def const(shape):
        nonlocal n_const
        if None in shape:
            raise gd.GraphError("a constant cannot take a dimension unknown at build time")
        n_const += 1
        return gd.constant(constant_data(tuple(shape), n_const).astype(dtype))

    for step in recipe["steps"]:
        kind, *args = step
        values.append(_apply(kind, args, values, const))
    return values[-1]


def _apply(kind, args, values, const):
    if kind in UNARY:
        return UNARY[kind](values[args[0]])
    if kind in BINARY:  # b is a value index, or ("const", shape)
        a, b = args
        other = const(b[1]) if isinstance(b, tuple) else values[b]
        return BINARY[kind](values[a], other)
    if kind in REDUCE:
        x, axes, keepdims = args
        return REDUCE[kind](values[x], axis=tuple(axes), keepdims=keepdims)
    if kind in SOFTMAX:
        x, axis = args
        return SOFTMAX[kind](values[x], axis=axis)
    if kind == "matmul":
        x, cols, transpose_first = args
        a = values[x]
        if transpose_first:
            a = gd.transpose(a)
        return gd.matmul(a, const((a.shape[1], cols)))
    if kind == "reshape":
        x, shape = args
        return gd.reshape(values[x], tuple(shape))
    if kind == "transpose":
        x, perm = args
        return gd.transpose(values[x], tuple(perm))
    if kind == "slice":
        x, axis, start, stop, stride = args
        index = [slice(None)] * values[x].ndim
        index[axis] = slice(start, stop, stride) if stride > 0 else \
            slice(stop - 1, start - 1 if start > 0 else None, stride)
        return values[x][tuple(index)]
    if kind == "concat":
        x, y, axis = args
        return gd.concat([values[x], values[y]], axis=axis)
    if kind == "conv2d":
        x, out_channels, kernel, stride, padding = args
        w = const((out_channels, values[x].shape[1], *kernel))
        return gd.conv2d(values[x], w, stride=stride, padding=padding)
    if kind in ("max_pool2d", "avg_pool2d"):
        x, size, stride, padding = args
        pool = gd.max_pool2d if kind == "max_pool2d" else gd.avg_pool2d
        return pool(values[x], size=size, stride=stride, padding=padding)
    raise ValueError(f"unknown step kind {kind!r}")


# -- the strategy -----------------------------------------------------------------------
_dims = st.integers(1, 4)


@st.composite
def recipes(draw, max_steps=6):
    """A random recipe whose every step builds (shapes checked by building it)."""
    n_inputs = draw(st.integers(1, 2))
    shapes = []
    for _ in range(n_inputs):
        if draw(st.booleans()) and draw(st.booleans()):  # an image batch for conv/pool
            shapes.append((draw(st.integers(1, 2)), draw(st.integers(1, 3)),
                           draw(st.integers(3, 7)), draw(st.integers(3, 7))))
        else:
            shapes.append(tuple(draw(st.lists(_dims, min_size=1, max_size=3))))
    recipe = {"inputs": shapes, "steps": []}
    graph = gd.Graph()
    with graph.as_default():
        values = [gd.placeholder(s, "float64") for s in shapes]
        n_steps = draw(st.integers(1, max_steps))
        attempts = 0
        while len(recipe["steps"]) < n_steps and attempts < 4 * max_steps:
            attempts += 1
            step = _propose(draw, [v.shape for v in values])
            if step is None:
                continue
            try:
                out = build({"steps": recipe["steps"] + [step]}, values[:n_inputs])
            except gd.GraphError:
                continue
            recipe["steps"].append(step)
            values.append(out)
    if not recipe["steps"]:
        recipe["steps"].append(("tanh", 0))
    return recipe


KINDS = (list(UNARY) + list(BINARY) + list(REDUCE) + list(SOFTMAX)
         + ["matmul", "reshape", "transpose", "slice", "concat", "conv2d", "max_pool2d",
            "avg_pool2d"])


def _propose(draw, shapes):
    kind = draw(st.sampled_from(KINDS))
    # prefer recent values: graphs grow deep rather than wide
    x = draw(st.integers(max(0, len(shapes) - 3), len(shapes) - 1))
    shape = shapes[x]
    ndim = len(shape)
    if kind in UNARY:
        return (kind, x)
    if kind in BINARY:
        if draw(st.booleans()):  # a constant that broadcasts against x
            keep = draw(st.lists(st.booleans(), min_size=ndim, max_size=ndim))
            lead = draw(st.integers(0, ndim))
            b_shape = tuple(d if k else 1 for d, k in zip(shape, keep))[ndim - lead:]
            return (kind, x, ("const", b_shape))
        y = draw(st.integers(0, len(shapes) - 1))
        return (kind, x, y)
    if kind in REDUCE:
        if ndim == 0:
            return None
        axes = sorted(set(draw(st.lists(st.integers(0, ndim - 1), min_size=1,
                                        max_size=ndim))))
        return (kind, x, axes, draw(st.booleans()))
    if kind in SOFTMAX:
        return (kind, x, draw(st.integers(-ndim, ndim - 1))) if ndim else None
    if kind == "matmul":
        return (kind, x, draw(st.integers(1, 4)), draw(st.booleans())) if ndim == 2 else None
    if kind == "reshape":
        size = math.prod(shape)
        divisors = [d for d in range(1, size + 1) if size % d == 0]
        first = draw(st.sampled_from(divisors))
        return (kind, x, [first, -1] if draw(st.booleans()) else [size])
    if kind == "transpose":
        return (kind, x, draw(st.permutations(range(ndim)))) if ndim >= 2 else None
    if kind == "slice":
        if ndim == 0:
            return None
        axis = draw(st.integers(0, ndim - 1))
        n = shape[axis]
        start = draw(st.integers(0, n - 1))
        stop = draw(st.integers(start + 1, n))
        return (kind, x, axis, start, stop, draw(st.sampled_from([1, 2, -1])))
    if kind == "concat":
        same = [i for i, s in enumerate(shapes) if len(s) == ndim and ndim > 0]
        if not same:
            return None
        y = draw(st.sampled_from(same))
        return (kind, x, y, draw(st.integers(0, ndim - 1)))
    if ndim != 4:
        return None
    stride = draw(st.integers(1, 2))
    padding = draw(st.sampled_from(["valid", "same", 1]))
    if kind == "conv2d":
        kernel = (draw(st.integers(1, 3)), draw(st.integers(1, 3)))
        return (kind, x, draw(st.integers(1, 3)), kernel, stride, padding)
    return (kind, x, draw(st.integers(2, 3)), stride, padding)
