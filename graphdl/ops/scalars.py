"""Scalar functions of the elementwise ops: what compiled backends fuse into loops.

The contract (shared by every backend; ``OpDef.scalar`` points here):

* a plain Python function taking the op's scalar inputs positionally; the node's
  attrs that the function names as parameters are passed as keyword arguments
  (Python numbers; :func:`scalar_kwargs` picks them), e.g. ``leaky_relu(x, alpha)``;
  attr parameters come after the inputs, so passing them positionally in parameter
  order (:func:`scalar_attr_args`) is the same call;
* the body uses only arithmetic, comparisons, conditional expressions/``if``,
  ``abs`` and ``math.*`` — no NumPy, no globals other than ``math`` — so the SAME
  function runs as plain Python, under ``numba.njit`` and under
  ``numba.cuda.jit(device=True)``;
* it returns one scalar; the generated code converts it to the output dtype (that
  conversion IS ``cast``: float -> int truncates toward zero, -> bool is ``x != 0``;
  out-of-range values such as nan -> int are undefined, as in NumPy);
* float semantics are IEEE, like NumPy's: division by zero gives ±inf or nan, never
  an exception. Compiled code gets this from ``error_model="numpy"`` (numba-cuda's
  default; ``njit`` must be given it). Plain-Python runs use NumPy scalars
  (``np.float64``/``np.float32``), whose operators behave the same way; ``math.*``
  calls that raise in Python on a domain or overflow error are guarded here.

Each function agrees with its op's NumPy ``forward`` on ordinary values and on
nan, ±inf, ±0 and large magnitudes, including NaN propagation (``maximum``) and the
sign of zeros; tests/test_scalars.py checks every one, in Python and compiled.
"""

import inspect
import math

_EXP_MAX = 709.782712893384  # math.exp overflows (raises in Python) above this


def scalar_kwargs(fn, attrs):
    """The attrs that scalar function ``fn`` takes, as keyword arguments."""
    params = inspect.signature(fn).parameters
    return {k: v for k, v in attrs.items() if k in params}


def scalar_attr_args(fn, attrs):
    """The same attrs as a tuple in ``fn``'s parameter order, for targets that take no
    keyword arguments (the CUDA simulator): ``fn(*inputs, *scalar_attr_args(fn, attrs))``.
    The attr parameters always follow the scalar inputs."""
    return tuple(attrs[p] for p in inspect.signature(fn).parameters if p in attrs)


# -- unary ---------------------------------------------------------------------
def neg(x):
    return -x


def exp(x):
    if x > _EXP_MAX:
        return math.inf
    return math.exp(x)


def log(x):
    if x == 0:
        return -math.inf
    if x < 0:
        return math.nan
    return math.log(x)


def sqrt(x):
    if x < 0:
        return math.nan
    return math.sqrt(x)


def sigmoid(x):
    # the stable form: exp of a non-positive number never overflows
    if x >= 0:
        return 1.0 / (1.0 + math.exp(-x))
    e = math.exp(x)  # nan lands here too, and stays nan
    return e / (1.0 + e)


def tanh(x):
    return math.tanh(x)


def log1p(x):
    if x == -1:
        return -math.inf
    if x < -1 or x != x:
        return math.nan
    if x == math.inf:
        return x
    return math.log1p(x)


def expm1(x):
    if x > _EXP_MAX:
        return math.inf
    return math.expm1(x)


def sign(x):
    if x > 0:
        return 1
    if x < 0:
        return -1
    return x if x != x else 0  # nan stays nan; -0 gives +0 like np.sign


def abs_(x):
    return abs(x)


def softplus(x):
    return (x if x > 0 else 0.0) + math.log1p(math.exp(-abs(x)))


def relu(x):
    return x if x > 0 or x != x else 0  # np.maximum(x, 0): nan propagates, -0 -> 0


def leaky_relu(x, alpha):
    return x if x > 0 else alpha * x


def identity(x):
    return x


# -- binary --------------------------------------------------------------------
def add(a, b):
    return a + b


def sub(a, b):
    return a - b


def mul(a, b):
    return a * b


def div(a, b):
    return a / b


def pow_(a, b):
    return a ** b


def maximum(a, b):
    return a if a > b or a != a else b  # like np.maximum: nan wins, ties give b


def minimum(a, b):
    return a if a < b or a != a else b


def less(a, b):
    return a < b


def less_equal(a, b):
    return a <= b


def greater(a, b):
    return a > b


def greater_equal(a, b):
    return a >= b


def equal(a, b):
    return a == b


def not_equal(a, b):
    return a != b


def where(cond, a, b):
    return a if cond else b


def broadcast_like(x, like):
    return x  # ``like`` only gives the iteration shape
