"""Elementwise ops: unary math, binary arithmetic with NumPy broadcasting,
comparisons, ``where`` and ``cast``.

Each op is one ``_define`` call (or a small OpDef) holding its NumPy reference,
its gradient rule and its scalar function (in :mod:`.scalars`, which states the
contract compiled backends rely on). Gradient rules may return a cotangent
with the *broadcast* shape: ``gradients`` sums it back to each input's shape,
once, for every op.
"""

import numpy as np

from .. import dtypes as _dt
from ..errors import DTypeError, ShapeError
from ..shapes import broadcast_shapes
from . import scalars as S
from .base import OpDef, apply, as_tensor, register, shape_error


def broadcast_type(op_name, inputs):
    """Shape and dtype of an elementwise op: NumPy broadcasting and promotion."""
    try:
        shape = broadcast_shapes(*[t.shape for t in inputs], op=op_name)
    except ShapeError as exc:
        raise shape_error(op_name, "shapes cannot be broadcast together", inputs) from exc
    return shape, _dt.result_dtype(*[t.dtype for t in inputs])


#: ops NumPy refuses on bools (negation and subtraction of truth values)
_NO_BOOL = frozenset({"neg", "sign", "sub"})


class _Elementwise(OpDef):
    """Shared shape rule: inputs broadcast; dtype by NumPy promotion."""

    float_only = True
    out_dtype = None  # fixed output dtype (comparisons: bool)

    def infer(self, *inputs, **attrs):
        shape, dtype = broadcast_type(self.name, inputs)
        if self.float_only and not _dt.is_float(dtype):
            raise DTypeError(f"{self.name}: needs floating-point inputs, got "
                             + ", ".join(f"{t.name!r} {t.dtype}" for t in inputs)
                             + " (use gd.cast)")
        if dtype == _dt.bool_ and self.name in _NO_BOOL:
            raise DTypeError(f"{self.name}: not defined for bool inputs ("
                             + ", ".join(f"{t.name!r}" for t in inputs)
                             + "); use gd.not_equal or gd.cast to a number")
        return [(shape, self.out_dtype or dtype)]


def _define(name, arity, fn, grad, scalar, doc, float_only=True, out_dtype=None,
            differentiable=True, public_name=None):
    """Register an elementwise op and return its public graph-building function."""
    attrs = {"name": name, "forward": staticmethod(fn), "scalar": staticmethod(scalar),
             "float_only": float_only, "out_dtype": out_dtype,
             "differentiable": differentiable, "__doc__": doc}
    if grad is not None:
        attrs["vjp"] = lambda self, node, g: grad(node, g) if g is not None else \
            [None] * len(node.inputs)
    op = register(type(f"Op_{name}", (_Elementwise,), attrs)())

    if arity == 1:
        def build(x, name=None):
            return apply(op, [as_tensor(x)], name=name)
    else:
        def build(a, b, name=None):
            a, b = _pair(a, b)
            return apply(op, [a, b], name=name)
    build.__name__ = public_name or name
    build.__doc__ = doc
    build.op = op
    return build


def _pair(a, b):
    """Convert two operands to tensors; a bare Python number adopts the other's dtype."""
    from ..graph import Tensor  # noqa: PLC0415
    if isinstance(a, Tensor):
        return a, as_tensor(b, like=a)
    if isinstance(b, Tensor):
        return as_tensor(a, like=b), b
    a = as_tensor(a)
    return a, as_tensor(b, like=a)


def _zero_like(g):
    return as_tensor(0.0, dtype=g.dtype, like=g)


# -- unary ---------------------------------------------------------------------
def _x(node):
    return node.inputs[0]


def _y(node):
    return node.outputs[0]


negative = _define("neg", 1, np.negative, lambda n, g: [-g], S.neg,
                   "Elementwise -x. Gradient: -g.", float_only=False, public_name="negative")
neg = negative
exp = _define("exp", 1, np.exp, lambda n, g: [g * _y(n)], S.exp,
              "Elementwise e**x. Gradient: g * exp(x).")
log = _define("log", 1, np.log, lambda n, g: [g / _x(n)], S.log,
              "Natural logarithm. Gradient: g / x.")
sqrt = _define("sqrt", 1, np.sqrt, lambda n, g: [g / (2.0 * _y(n))], S.sqrt,
               "Square root. Gradient: g / (2 sqrt(x)).")


def _sigmoid(x):
    # stable in both tails: exp never overflows
    e = np.exp(-np.abs(x))
    return np.where(x >= 0, 1.0 / (1.0 + e), e / (1.0 + e)).astype(x.dtype)


sigmoid = _define("sigmoid", 1, _sigmoid, lambda n, g: [g * _y(n) * (1.0 - _y(n))],
                  S.sigmoid,
                  "Logistic sigmoid 1/(1+e^-x), stable for large |x|. Gradient: g*y*(1-y).")
tanh = _define("tanh", 1, np.tanh, lambda n, g: [g * (1.0 - _y(n) * _y(n))], S.tanh,
               "Hyperbolic tangent. Gradient: g * (1 - y²).")
log1p = _define("log1p", 1, np.log1p, lambda n, g: [g / (1.0 + _x(n))], S.log1p,
                "log(1 + x), accurate for tiny x. Gradient: g / (1 + x).")
expm1 = _define("expm1", 1, np.expm1, lambda n, g: [g * (_y(n) + 1.0)], S.expm1,
                "e**x - 1, accurate for tiny x. Gradient: g * e**x.")
sign = _define("sign", 1, np.sign, lambda n, g: [None], S.sign,
               "Sign of x (-1, 0, 1). Its gradient is zero everywhere it exists.",
               float_only=False)
abs = _define("abs", 1, np.abs, lambda n, g: [g * sign(_x(n))], S.abs_,  # noqa: A001
              "Absolute value. Gradient: g * sign(x) (0 at x = 0).", float_only=False)


def _softplus(x):
    return (np.maximum(x, 0) + np.log1p(np.exp(-np.abs(x)))).astype(x.dtype)


softplus = _define("softplus", 1, _softplus, lambda n, g: [g * sigmoid(_x(n))],
                   S.softplus,
                   "log(1 + e^x), computed stably. Gradient: g * sigmoid(x).")
relu = _define("relu", 1, lambda x: np.maximum(x, 0).astype(x.dtype),
               lambda n, g: [where(_x(n) > 0, g, _zero_like(g))], S.relu,
               "max(x, 0). Gradient: g where x > 0, else 0 (0 at the kink x = 0).",
               float_only=False)


class LeakyRelu(_Elementwise):
    """x where x > 0, alpha * x elsewhere."""

    name = "leaky_relu"
    scalar = staticmethod(S.leaky_relu)

    def forward(self, x, alpha):
        return np.where(x > 0, x, alpha * x).astype(x.dtype)

    def vjp(self, node, g):
        x = node.inputs[0]
        return [where(x > 0, g, g * node.attrs["alpha"])]


LEAKY_RELU = register(LeakyRelu())


def leaky_relu(x, alpha=0.2, name=None):
    """x where x > 0, ``alpha * x`` elsewhere. Gradient: g or alpha * g."""
    return apply(LEAKY_RELU, [as_tensor(x)], name=name, alpha=float(alpha))


# -- binary --------------------------------------------------------------------
add = _define("add", 2, np.add, lambda n, g: [g, g], S.add,
              "a + b with broadcasting. Gradient: g to both (summed over broadcast axes).",
              float_only=False)
subtract = _define("sub", 2, np.subtract, lambda n, g: [g, -g], S.sub,
                   "a - b with broadcasting. Gradient: g, -g.", float_only=False,
                   public_name="subtract")
sub = subtract
multiply = _define("mul", 2, np.multiply,
                   lambda n, g: [lambda: g * n.inputs[1], lambda: g * n.inputs[0]],
                   S.mul, "a * b with broadcasting. Gradient: g*b, g*a.",
                   float_only=False, public_name="multiply")
mul = multiply
_true_divide = _define("div", 2, lambda a, b: np.true_divide(a, b).astype(_dt.result_dtype(
                     a.dtype, b.dtype)),
                 lambda n, g: [lambda: g / n.inputs[1],
                               lambda: -g * n.outputs[0] / n.inputs[1]],
                 S.div, "a / b (true division). Gradient: g/b, -g*a/b².",
                 public_name="divide")


def divide(a, b, name=None):
    """a / b (true division, NumPy broadcasting). Integer or bool operands are
    converted to float64 first, so ``int / int`` gives floats as in NumPy.
    Gradient: g/b, -g*a/b²."""
    a, b = _pair(a, b)
    if not _dt.is_float(_dt.result_dtype(a.dtype, b.dtype)):
        a, b = cast(a, "float64"), cast(b, "float64")
    return _true_divide(a, b, name=name)


divide.op = _true_divide.op
div = divide
power = _define("pow", 2, np.power,
                lambda n, g: [lambda: g * n.inputs[1] * n.inputs[0] ** (n.inputs[1] - 1.0),
                              lambda: g * n.outputs[0] * log(n.inputs[0])],
                S.pow_,
                "a ** b. Gradient: g*b*a^(b-1) and g*a^b*log(a) (the latter needs a > 0).",
                public_name="power")
pow = power  # noqa: A001
maximum = _define("maximum", 2, np.maximum,
                  lambda n, g: [lambda: where(n.inputs[0] >= n.inputs[1], g, _zero_like(g)),
                                lambda: where(n.inputs[0] < n.inputs[1], g, _zero_like(g))],
                  S.maximum,
                  "Elementwise max. Gradient goes to the larger input (to a at ties).",
                  float_only=False)
minimum = _define("minimum", 2, np.minimum,
                  lambda n, g: [lambda: where(n.inputs[0] <= n.inputs[1], g, _zero_like(g)),
                                lambda: where(n.inputs[0] > n.inputs[1], g, _zero_like(g))],
                  S.minimum,
                  "Elementwise min. Gradient goes to the smaller input (to a at ties).",
                  float_only=False)


def _comparison(name, fn, symbol):
    return _define(name, 2, fn, None, getattr(S, name),
                   f"Elementwise a {symbol} b (bool). Not differentiable.",
                   float_only=False, out_dtype=_dt.bool_, differentiable=False)


less = _comparison("less", np.less, "<")
less_equal = _comparison("less_equal", np.less_equal, "<=")
greater = _comparison("greater", np.greater, ">")
greater_equal = _comparison("greater_equal", np.greater_equal, ">=")
equal = _comparison("equal", np.equal, "==")
not_equal = _comparison("not_equal", np.not_equal, "!=")


class Where(OpDef):
    """cond ? a : b, elementwise with broadcasting."""

    name = "where"
    selector_inputs = (0,)
    scalar = staticmethod(S.where)

    def infer(self, cond, a, b):
        if cond.dtype != _dt.bool_:
            raise DTypeError(f"where: condition {cond.name!r} must be bool, got {cond.dtype}")
        shape, _ = broadcast_type(self.name, [cond, a, b])
        return [(shape, _dt.result_dtype(a.dtype, b.dtype))]

    def forward(self, cond, a, b):
        return np.where(cond, a, b)

    def vjp(self, node, g):
        cond = node.inputs[0]
        zero = _zero_like(g)
        return [None, lambda: where(cond, g, zero), lambda: where(cond, zero, g)]


WHERE = register(Where())


def where(cond, a, b, name=None):
    """Elementwise ``a`` where ``cond`` is true, else ``b`` (NumPy broadcasting).

    Gradient: g flows to ``a`` where cond holds and to ``b`` elsewhere; none to cond.
    """
    from ..graph import Tensor  # noqa: PLC0415
    cond = as_tensor(cond)
    if not isinstance(a, Tensor) and isinstance(b, Tensor):
        a = as_tensor(a, like=b)
    a = as_tensor(a)
    b = as_tensor(b, like=a)
    return apply(WHERE, [cond, a, b], name=name)


class Cast(OpDef):
    """Convert to another dtype."""

    name = "cast"
    # the conversion every elementwise result undergoes in generated code is the cast
    scalar = staticmethod(S.identity)

    def infer(self, x, dtype):
        return [(x.shape, dtype)]

    def forward(self, x, dtype):
        return x.astype(dtype)

    def has_gradient(self, node):
        # integers and bools carry no gradient
        return _dt.is_float(node.inputs[0].dtype) and _dt.is_float(node.attrs["dtype"])

    def vjp(self, node, g):
        if not self.has_gradient(node):
            return [None]
        return [cast(g, node.inputs[0].dtype)]


CAST = register(Cast())


def cast(x, dtype, name=None):
    """``x`` converted to ``dtype``. Gradient flows only between float dtypes."""
    x = as_tensor(x)
    dtype = _dt.as_dtype(dtype)
    if x.dtype == dtype:
        return x
    return apply(CAST, [x], name=name, dtype=dtype)


# -- compositions (no op of their own: compiled backends see the ops they are made of) --
def square(x, name=None):
    """x * x. Gradient: 2 x g."""
    x = as_tensor(x)
    return multiply(x, x, name=name)


def reciprocal(x, name=None):
    """1 / x (ints become float64, as with ``/``). Gradient: -g / x²."""
    x = as_tensor(x)
    return divide(as_tensor(1, like=x), x, name=name)


def rsqrt(x, name=None):
    """1 / sqrt(x). Gradient: -g / (2 x^1.5)."""
    return reciprocal(sqrt(x), name=name)


def clip_by_value(x, clip_min, clip_max, name=None):
    """``x`` limited to [clip_min, clip_max] (numbers or tensors broadcasting with x).

    Gradient: g where clip_min < x < clip_max (and at the bounds), 0 outside.
    """
    x = as_tensor(x)
    return minimum(maximum(x, as_tensor(clip_min, like=x)), as_tensor(clip_max, like=x),
                   name=name)
