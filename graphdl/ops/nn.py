"""Neural-network ops: softmax, log-softmax, cross-entropy losses and dropout.

Softmax and log-softmax are dedicated ops (stable forward, compact gradient
graphs); the losses are compositions of them, so their gradients — of any
order — come from the rules of the ops they are made of.
"""

import numpy as np

from .. import dtypes as _dt
from ..errors import DTypeError, GraphError, ShapeError
from ..graph import Tensor
from ..shapes import fmt
from .axes import squeeze
from .base import (
    OpDef,
    apply,
    as_tensor,
    checked_axes,
    checked_axis,
    input_error,
    register,
    require_float,
    shape_error,
)
from .elementwise import (
    add,
    exp,
    greater,
    log,
    multiply,
    negative,
    not_equal,
    softplus,
    subtract,
    where,
)
from .reduction import max as reduce_max
from .reduction import sum as reduce_sum
from .shape import stop_gradient

__all__ = [
    "dropout",
    "log_softmax",
    "logsumexp",
    "sigmoid_cross_entropy",
    "softmax",
    "softmax_cross_entropy",
    "sparse_softmax_cross_entropy",
]


def _shifted(x, axis):
    """x minus its max along ``axis``: exp of it never overflows."""
    return x - np.max(x, axis=axis, keepdims=True)


class _SoftmaxBase(OpDef):
    def infer(self, x, axis):
        return [(x.shape, x.dtype)]

    def label(self, node):
        return f"{self.name}\naxis={node.attrs['axis']}"


class Softmax(_SoftmaxBase):
    """exp(x) / sum(exp(x)) along one axis."""

    name = "softmax"

    def forward(self, x, axis):
        e = np.exp(_shifted(x, axis))
        return e / np.sum(e, axis=axis, keepdims=True)

    def vjp(self, node, g):
        # Jacobian diag(y) - y yᵀ applied to g, without forming it
        y, axis = node.outputs[0], node.attrs["axis"]
        return [y * (g - reduce_sum(g * y, axis, keepdims=True))]


SOFTMAX = register(Softmax())


class LogSoftmax(_SoftmaxBase):
    """x - log(sum(exp(x))) along one axis."""

    name = "log_softmax"

    def forward(self, x, axis):
        z = _shifted(x, axis)
        return z - np.log(np.sum(np.exp(z), axis=axis, keepdims=True))

    def vjp(self, node, g):
        x, axis = node.inputs[0], node.attrs["axis"]
        return [g - softmax(x, axis) * reduce_sum(g, axis, keepdims=True)]


LOG_SOFTMAX = register(LogSoftmax())


def _softmax_like(op, x, axis, name):
    x = as_tensor(x)
    require_float(op.name, x)
    if x.ndim == 0:
        raise shape_error(op.name, "needs at least one axis", [x])
    return apply(op, [x], name=name, axis=checked_axis(op.name, axis, x.ndim, [x]))


def softmax(x, axis=-1, name=None):
    """exp(x) / sum(exp(x), axis), computed stably (the max is subtracted first).

    Shape: same as ``x``. Gradient: y * (g - sum(g * y, axis)), a graph of
    ordinary ops, so second derivatives work.
    """
    return _softmax_like(SOFTMAX, x, axis, name)


def log_softmax(x, axis=-1, name=None):
    """x - logsumexp(x, axis), computed stably (no exp overflow, no log(0)).

    Shape: same as ``x``. Gradient: g - softmax(x) * sum(g, axis).
    """
    return _softmax_like(LOG_SOFTMAX, x, axis, name)


def logsumexp(x, axis=None, keepdims=False, name=None):
    """log(sum(exp(x), axis)), computed stably: m + log(sum(exp(x - m))) with m the
    max along ``axis`` (None: all axes), held constant for the gradient (the result
    does not depend on it). Shape: like ``gd.sum``. Gradient: g * softmax(x, axis).
    """
    x = as_tensor(x)
    require_float("logsumexp", x)
    axes = checked_axes("logsumexp", axis, x.ndim, [x])
    m = stop_gradient(reduce_max(x, axes, keepdims=True))
    # an all -inf slice has max -inf: shift by 0 there, so exp(x - m) = exp(-inf) = 0
    m = where(m > -np.inf, m, as_tensor(0.0, like=m))
    out = add(log(reduce_sum(exp(x - m), axes, keepdims=True)), m,
              name=name if keepdims or not axes else None)
    return out if keepdims or not axes else squeeze(out, axes, name=name)


# -- losses ---------------------------------------------------------------------
def _check_same_shape(op_name, a, b, names):
    if a.ndim != b.ndim or any(p is not None and q is not None and p != q
                               for p, q in zip(a.shape, b.shape)):
        raise shape_error(op_name, "logits and labels must have the same shape",
                          [a, b], names)


class LabelsLike(OpDef):
    """``labels`` unchanged, after checking at run time that their shape is the shape
    of ``logits``; built only when some dimension is unknown at build time (else the
    build-time check suffices). Without it, labels of batch 1 would silently broadcast
    against a larger batch of logits."""

    name = "labels_like"
    shape_only_inputs = (1,)

    def infer(self, labels, logits, loss):
        return [(labels.shape, labels.dtype)]

    def forward(self, labels, logits, loss):
        if labels.shape != logits.shape:
            raise ShapeError(f"{loss}: labels of run-time shape {fmt(labels.shape)} do not "
                             f"match logits of shape {fmt(logits.shape)}")
        return labels

    def vjp(self, node, g):
        return [g, None]

    def label(self, node):
        return "labels_like"


LABELS_LIKE = register(LabelsLike())


def _labels_like(labels, logits, op_name):
    if None in labels.shape or None in logits.shape:
        return apply(LABELS_LIKE, [labels, logits], loss=op_name)
    return labels


def softmax_cross_entropy(logits, onehot_labels, axis=-1, name=None):
    """Cross-entropy -sum(labels * log_softmax(logits), axis) per example.

    ``onehot_labels`` are probabilities (one-hot or soft) with the shape of
    ``logits``. Shape: ``logits`` without ``axis``. Computed from the logits
    through a stable log-softmax. Gradient: (softmax(logits) * sum(labels) -
    labels) * g for the logits (= softmax - labels for proper distributions)
    and -log_softmax(logits) * g for the labels.
    """
    logits, labels = as_tensor(logits), as_tensor(onehot_labels)
    require_float("softmax_cross_entropy", logits, labels)
    _check_same_shape("softmax_cross_entropy", logits, labels, ["logits", "labels"])
    axis = checked_axis("softmax_cross_entropy", axis, logits.ndim, [logits, labels])
    labels = _labels_like(labels, logits, "softmax_cross_entropy")
    return negative(reduce_sum(labels * _log_probs_for(labels, logits, axis), axis),
                    name=name)


def _log_probs_for(labels, logits, axis):
    """log_softmax(logits), made safe to multiply by ``labels``.

    A class masked with -inf has log-probability -inf: where its label is 0 it must add
    0, not 0 * -inf = NaN. Selecting before multiplying keeps both gradients finite
    (the labels' gradient there is 0 instead of the mathematical +inf); a label > 0 on
    a masked class still gives an infinite loss, as it should.
    """
    logp = log_softmax(logits, axis)
    zero = as_tensor(0.0, like=logp)
    finite_or_zero = where(greater(logp, as_tensor(-np.inf, like=logp)), logp, zero)
    return where(not_equal(labels, as_tensor(0.0, like=labels)), logp, finite_or_zero)


class LabelOneHot(OpDef):
    """Integer labels (...) -> one-hot rows shaped like ``like`` (..., C); checks range."""

    name = "label_one_hot"
    differentiable = False

    def infer(self, labels, like):
        return [(like.shape, like.dtype)]

    def forward(self, labels, like):
        depth = like.shape[-1]
        if labels.shape != like.shape[:-1]:  # only possible for dims unknown at build time
            raise ShapeError(f"sparse_softmax_cross_entropy: labels of run-time shape "
                             f"{fmt(labels.shape)} do not match logits {fmt(like.shape)} "
                             "without its last (class) axis")
        if labels.size and (labels.min() < 0 or labels.max() >= depth):
            bad = labels[(labels < 0) | (labels >= depth)]
            raise GraphError(f"sparse_softmax_cross_entropy: label {int(bad[0])} is out of "
                             f"range for {depth} classes")
        return (labels[..., None] == np.arange(depth)).astype(like.dtype)


LABEL_ONE_HOT = register(LabelOneHot())


def sparse_softmax_cross_entropy(logits, labels, name=None):
    """Cross-entropy with integer class ``labels`` (N,) for ``logits`` (N, C).

    Leading axes generalize: labels (...) with logits (..., C). Shape:
    ``labels.shape``. Equals ``softmax_cross_entropy`` on the one-hot labels.
    Gradient: (softmax(logits) - onehot(labels)) * g for the logits; labels
    get none. Labels outside [0, C) raise at run time.
    """
    logits, labels = as_tensor(logits), as_tensor(labels)
    require_float("sparse_softmax_cross_entropy", logits)
    if not _dt.is_int(labels.dtype):
        raise input_error("sparse_softmax_cross_entropy", "labels must be integer class "
                          f"indices, got dtype {labels.dtype}", [logits, labels],
                          ["logits", "labels"], cls=DTypeError)
    lead = logits.shape[:-1]
    if logits.ndim < 1 or labels.ndim != len(lead) or any(
            p is not None and q is not None and p != q for p, q in zip(labels.shape, lead)):
        raise shape_error("sparse_softmax_cross_entropy",
                          "labels must have the shape of logits without its last (class) "
                          "axis", [logits, labels], ["logits", "labels"])
    onehot = apply(LABEL_ONE_HOT, [labels, logits])
    return negative(reduce_sum(onehot * _log_probs_for(onehot, logits, -1), -1), name=name)


def sigmoid_cross_entropy(logits, labels, name=None):
    """Elementwise binary cross-entropy of sigmoid(logits) against ``labels`` in [0, 1].

    Computed stably as max(x, 0) - x * z + log1p(exp(-|x|)) (= softplus(x) - x*z).
    Shape: same as ``logits`` (labels must match it). Gradient: (sigmoid(x) - z) * g
    for the logits and -x * g for the labels.
    """
    logits = as_tensor(logits)
    labels = as_tensor(labels, like=logits)
    require_float("sigmoid_cross_entropy", logits, labels)
    _check_same_shape("sigmoid_cross_entropy", logits, labels, ["logits", "labels"])
    labels = _labels_like(labels, logits, "sigmoid_cross_entropy")
    return subtract(softplus(logits), logits * labels, name=name)


# -- dropout -----------------------------------------------------------------------
class DropoutMask(OpDef):
    """Random inverted-dropout mask shaped like ``x`` at run time: 0 with probability
    ``rate``, else 1 / (1 - rate). Draws from the session's generator."""

    name = "dropout_mask"
    stateful = True  # a fresh draw on every run: never merged or folded
    random = True

    def infer(self, x, rate):
        return [(x.shape, x.dtype)]

    def sample(self, rng, x, rate):
        keep = rng.random(x.shape) >= rate
        return (keep / (1.0 - rate)).astype(x.dtype)

    def vjp(self, node, g):
        return [None]  # depends on x's shape only


DROPOUT_MASK = register(DropoutMask())


def dropout(x, rate, training=True, name=None):
    """Inverted dropout: ``x * mask``, mask 0 with probability ``rate``, else 1/(1-rate).

    The expected value of the output is ``x``, so nothing changes at inference.
    ``training`` is a Python bool (False returns ``x`` itself) or a bool scalar
    tensor (e.g. a placeholder) choosing at run time. Shape: same as ``x``.
    Gradient: g * mask, with the same mask the forward pass drew in that run.
    A session draws a new mask on every run; its seed makes the sequence repeat.
    """
    x = as_tensor(x)
    require_float("dropout", x)
    if not isinstance(rate, (int, float, np.floating)) or isinstance(rate, bool) \
            or not 0.0 <= rate < 1.0:
        raise input_error("dropout", f"rate must be a Python number in [0, 1), got {rate!r}",
                          [x])
    if isinstance(training, Tensor):
        if training.dtype != _dt.bool_ or training.ndim != 0:
            raise input_error("dropout", "training must be a Python bool or a bool scalar "
                              f"tensor, got dtype {training.dtype} and shape "
                              f"{fmt(training.shape)}", [x, training], ["x", "training"],
                              cls=DTypeError)
    elif not isinstance(training, (bool, np.bool_)):  # a string or None is surely a mistake
        raise input_error("dropout", "training must be a Python bool or a bool scalar tensor, "
                          f"got {type(training).__name__} {training!r}", [x], cls=DTypeError)
    elif not training:
        return x
    if rate == 0:
        return x  # nothing is dropped
    mask = apply(DROPOUT_MASK, [x], rate=float(rate))
    if isinstance(training, Tensor):
        return where(training, x * mask, x, name=name)
    return multiply(x, mask, name=name)
