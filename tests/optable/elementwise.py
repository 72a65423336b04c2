"""Op-table entries for elementwise ops."""

import numpy as np

import graphdl as gd

from . import OpInfo, distinct, off_zero, positive


def _pairs(rng, a_pos=False, b_pos=False):
    make_a = positive if a_pos else off_zero
    make_b = positive if b_pos else off_zero
    return [
        (make_a(rng, (3, 4)), make_b(rng, (3, 4))),        # same shape
        (make_a(rng, (2, 3, 5)), make_b(rng, (5,))),       # trailing broadcast
        (make_a(rng, (4, 1)), make_b(rng, (1, 3))),        # both broadcast
        (make_a(rng, (1, 7)), make_b(rng, ())),            # batch 1, scalar
    ]


def _singles(maker):
    return lambda rng: [(maker(rng, (3, 5)),), (maker(rng, (1, 7)),), (maker(rng, (2, 3, 4)),)]


def _ties(rng):
    """Small integers as floats: many exact ties, so < and <=, == and != really differ."""
    def ints(shape):
        return np.asarray(rng.integers(-2, 3, shape), dtype=float)
    return [(ints((3, 4)), ints((3, 4))), (ints((2, 3, 5)), ints((5,))),
            (ints((4, 1)), ints((1, 3))), (ints((1, 7)), ints(()))]


def _as_float(t):
    """Comparisons give bool; the table compares float outputs."""
    return gd.cast(t, "float64")


def _sigmoid(x):
    return 1.0 / (1.0 + np.exp(-x))


OPS = [
    OpInfo("neg", lambda x: -x, lambda x: -x, _singles(off_zero)),
    OpInfo("exp", gd.exp, np.exp, _singles(off_zero)),
    OpInfo("log", gd.log, np.log, _singles(positive)),
    OpInfo("sqrt", gd.sqrt, np.sqrt, _singles(positive)),
    OpInfo("abs", gd.abs, np.abs, _singles(off_zero)),
    OpInfo("sigmoid", gd.sigmoid, _sigmoid, _singles(lambda r, s: 4 * off_zero(r, s))),
    OpInfo("tanh", gd.tanh, np.tanh, _singles(off_zero)),
    OpInfo("relu", gd.relu, lambda x: np.where(x > 0, x, 0.0), _singles(off_zero),
           second_order=False),
    OpInfo("leaky_relu", lambda x: gd.leaky_relu(x, 0.1),
           lambda x: np.where(x > 0, x, 0.1 * x), _singles(off_zero), second_order=False),
    OpInfo("softplus", gd.softplus, lambda x: np.log(1 + np.exp(x)),
           _singles(lambda r, s: 3 * off_zero(r, s))),
    OpInfo("add", lambda a, b: a + b, np.add, _pairs),
    OpInfo("sub", lambda a, b: a - b, np.subtract, _pairs),
    OpInfo("mul", lambda a, b: a * b, np.multiply, _pairs),
    OpInfo("div", lambda a, b: a / b, np.divide, lambda r: _pairs(r, b_pos=True)),
    OpInfo("pow", lambda a, b: a ** b, np.power, lambda r: _pairs(r, a_pos=True)),
    OpInfo("pow_const", lambda a: a ** 3.0, lambda a: a ** 3, _singles(off_zero)),
    OpInfo("maximum", gd.maximum, np.maximum,
           lambda r: [(distinct(r, (3, 4)), distinct(r, (3, 4)) + 0.01)]),
    OpInfo("minimum", gd.minimum, np.minimum,
           lambda r: [(distinct(r, (3, 4)), distinct(r, (4,)) + 0.01)]),
    OpInfo("where", lambda a, b: gd.where(a > b, a, b * 2.0),
           lambda a, b: np.where(a > b, a, b * 2.0), _pairs),
    OpInfo("cast", lambda x: gd.cast(x, "float32") * 1.0, lambda x: x.astype(np.float32),
           _singles(off_zero), grad=False),
    OpInfo("less", lambda a, b: gd.cast(a < b, a.dtype), lambda a, b: (a < b) * 1.0,
           _pairs, grad=False),
    OpInfo("greater_equal", lambda a, b: gd.cast(a >= b, a.dtype),
           lambda a, b: (a >= b) * 1.0, _pairs, grad=False),
    OpInfo("greater", lambda a, b: _as_float(a > b), lambda a, b: (a > b) * 1.0, _ties,
           grad=False),
    OpInfo("less_equal", lambda a, b: _as_float(a <= b), lambda a, b: (a <= b) * 1.0, _ties,
           grad=False),
    OpInfo("not_equal", lambda a, b: _as_float(gd.not_equal(a, b)),
           lambda a, b: (a != b) * 1.0, _ties, grad=False),
    # sign is flat off 0: its gradient (and second derivative) is exactly zero there
    OpInfo("sign", gd.sign, lambda x: (x > 0) * 1.0 - (x < 0) * 1.0, _singles(off_zero)),
    OpInfo("sign[int]", lambda i: _as_float(gd.sign(i)), lambda i: (i > 0) * 1.0 - (i < 0),
           lambda r: [(np.array([-3, 0, 2, 0, 7]),), (np.array([[0]]),),
                      (r.integers(-2, 3, (2, 3, 4)),)], grad=False),
    OpInfo("equal", lambda a, b: gd.cast(gd.equal(a, b), a.dtype),
           lambda a, b: (a == b) * 1.0, lambda r: [(np.array([1.0, 2.0, 3.0]),
                                                    np.array([1.0, 0.0, 3.0]))], grad=False),
    # log1p/expm1 must stay accurate for tiny x, where log(1 + x) and exp(x) - 1 lose
    # every digit (relative error 1e-6 would fail there)
    OpInfo("log1p", gd.log1p, np.log1p,
           lambda r: [(0.6 * off_zero(r, (3, 4)),), (np.array([1e-10, -3e-12, 2e-9]),)]),
    OpInfo("expm1", gd.expm1, np.expm1,
           lambda r: [(off_zero(r, (3, 4)),), (np.array([1e-10, -3e-12, 2e-9]),)]),
    OpInfo("square", gd.square, lambda x: x * x, _singles(off_zero)),
    OpInfo("reciprocal", gd.reciprocal, lambda x: 1.0 / x, _singles(off_zero)),
    OpInfo("rsqrt", gd.rsqrt, lambda x: 1.0 / np.sqrt(x), _singles(positive)),
    OpInfo("clip_by_value", lambda x: gd.clip_by_value(x, -0.33, 0.41),
           lambda x: np.clip(x, -0.33, 0.41),
           lambda r: [(distinct(r, (3, 5)),), (distinct(r, (1, 7)),)]),
    OpInfo("clip_by_value[tensor bounds]", gd.clip_by_value, np.clip,
           lambda r: [(distinct(r, (3, 4)), np.full((4,), -0.21), np.full((3, 1), 0.37))]),
    # int / int is a float division (float64), as in NumPy
    OpInfo("div[int]", lambda a, b: a / b, np.true_divide,
           lambda r: [(r.integers(-9, 10, (3, 4)), r.integers(1, 5, (3, 4))),
                      (r.integers(-9, 10, (2, 3)), r.integers(1, 5, (3,)))], grad=False,
           float32=False),
]
