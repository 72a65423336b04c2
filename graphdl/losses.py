"""Loss functions ``loss(y_true, y_pred) -> scalar`` (the batch mean), as in Keras.

``y_pred`` may be probabilities (the output of a softmax or sigmoid layer) or
logits (``from_logits=True``). Probabilities are never put through ``log``
directly when it can be avoided: when ``y_pred`` is the output of a softmax
(sigmoid) op, the loss is computed from that op's input logits through the
stable log-softmax (softplus) form — what Keras does too. Other probabilities
are clipped to [eps, 1 - eps] first.

Penalties for the weights: ``L1(scale)``, ``L2(scale)`` (callables usable as a
layer's ``kernel_regularizer``), and ``l1_penalty`` / ``l2_penalty``.
"""

from . import dtypes as _dt
from .errors import GraphError
from .ops.base import as_tensor
from .ops.elementwise import abs as _abs
from .ops.elementwise import cast, log, maximum, minimum
from .ops.nn import sigmoid_cross_entropy, softmax_cross_entropy, sparse_softmax_cross_entropy
from .ops.reduction import mean
from .ops.reduction import sum as _sum

__all__ = ["mse", "mean_squared_error", "mae", "categorical_crossentropy",
           "sparse_categorical_crossentropy", "binary_crossentropy", "l1_penalty",
           "l2_penalty", "L1", "L2", "get"]

EPSILON = 1e-7


def _pair(y_true, y_pred):
    """Tensors for the labels and predictions; labels that are values (not class
    indices) take the predictions' float dtype, so int 0/1 labels work too."""
    y_pred = as_tensor(y_pred)
    y_true = as_tensor(y_true, like=y_pred)
    if _dt.is_float(y_pred.dtype) and y_true.dtype != y_pred.dtype:
        y_true = cast(y_true, y_pred.dtype)
    return y_true, y_pred


def mse(y_true, y_pred):
    """Mean over all elements of (y_true - y_pred)²."""
    y_true, y_pred = _pair(y_true, y_pred)
    d = y_pred - y_true
    return mean(d * d, name="mse")


mean_squared_error = mse


def mae(y_true, y_pred):
    """Mean over all elements of |y_true - y_pred|."""
    y_true, y_pred = _pair(y_true, y_pred)
    return mean(_abs(y_pred - y_true), name="mae")


def _logits_of(y_pred, op_name):
    """The input of ``y_pred``'s op when that op is ``op_name`` (softmax over the last
    axis, or sigmoid): the logits the probabilities came from."""
    node = y_pred.node
    if node.op.name != op_name:
        return None
    if op_name == "softmax" and node.attrs["axis"] != y_pred.ndim - 1:
        return None
    return node.inputs[0]


def _clipped_log(p):
    return log(minimum(maximum(p, EPSILON), 1.0 - EPSILON))


def categorical_crossentropy(y_true, y_pred, from_logits=False):
    """Mean over the batch of -Σ y_true · log(softmax) along the last axis.

    ``y_true``: one-hot (or soft) labels shaped like ``y_pred``.
    """
    y_true, y_pred = _pair(y_true, y_pred)
    logits = y_pred if from_logits else _logits_of(y_pred, "softmax")
    if logits is not None:
        return mean(softmax_cross_entropy(logits, y_true), name="categorical_crossentropy")
    per = -_sum(y_true * _clipped_log(y_pred), axis=-1)
    return mean(per, name="categorical_crossentropy")


def sparse_categorical_crossentropy(y_true, y_pred, from_logits=False):
    """Like :func:`categorical_crossentropy` with integer class labels (batch,).

    The labels get no gradient (they are indices).
    """
    y_pred = as_tensor(y_pred)
    y_true = as_tensor(y_true)
    if not _dt.is_int(y_true.dtype):
        raise GraphError("sparse_categorical_crossentropy: labels must be integer class "
                         f"indices, got {y_true.name!r} with dtype {y_true.dtype}")
    logits = y_pred if from_logits else _logits_of(y_pred, "softmax")
    if logits is None:  # probabilities from elsewhere: log of the clipped values
        logits = _clipped_log(y_pred)  # log_softmax(log p) = log p when p sums to 1
    return mean(sparse_softmax_cross_entropy(logits, y_true),
                name="sparse_categorical_crossentropy")


def binary_crossentropy(y_true, y_pred, from_logits=False):
    """Mean of -(y log p + (1 - y) log(1 - p)), p = sigmoid(logits), elementwise."""
    y_true, y_pred = _pair(y_true, y_pred)
    logits = y_pred if from_logits else _logits_of(y_pred, "sigmoid")
    if logits is not None:
        return mean(sigmoid_cross_entropy(logits, y_true), name="binary_crossentropy")
    p = minimum(maximum(y_pred, EPSILON), 1.0 - EPSILON)
    return mean(-(y_true * log(p) + (1.0 - y_true) * log(1.0 - p)),
                name="binary_crossentropy")


def l1_penalty(tensors, scale=1.0):
    """scale · Σ |w| over every tensor in ``tensors`` (one tensor or a list)."""
    tensors = [tensors] if not isinstance(tensors, (list, tuple)) else list(tensors)
    total = None
    for t in tensors:
        term = _sum(_abs(t))
        total = term if total is None else total + term
    return total * scale


def l2_penalty(tensors, scale=1.0):
    """scale · Σ w² over every tensor in ``tensors`` (one tensor or a list)."""
    tensors = [tensors] if not isinstance(tensors, (list, tuple)) else list(tensors)
    total = None
    for t in tensors:
        term = _sum(t * t)
        total = term if total is None else total + term
    return total * scale


class L1:
    """A weight penalty scale · Σ|w|, usable as ``kernel_regularizer=gd.losses.L1(1e-4)``."""

    def __init__(self, scale):
        self.scale = float(scale)

    def __call__(self, w):
        return l1_penalty(w, self.scale)


class L2:
    """A weight penalty scale · Σw², usable as ``kernel_regularizer=gd.losses.L2(1e-4)``."""

    def __init__(self, scale):
        self.scale = float(scale)

    def __call__(self, w):
        return l2_penalty(w, self.scale)


_BY_NAME = {"mse": mse, "mean_squared_error": mse, "mae": mae,
            "categorical_crossentropy": categorical_crossentropy,
            "sparse_categorical_crossentropy": sparse_categorical_crossentropy,
            "binary_crossentropy": binary_crossentropy}


def get(loss):
    """A loss function from its Keras name or the function itself."""
    if callable(loss):
        return loss
    if loss in _BY_NAME:
        return _BY_NAME[loss]
    raise GraphError(f"unknown loss {loss!r}; use one of {', '.join(sorted(_BY_NAME))} "
                     "or a function (y_true, y_pred) -> scalar tensor")

