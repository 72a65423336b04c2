"""Metrics ``metric(y_true, y_pred) -> scalar`` (the batch mean), as in Keras."""

from . import dtypes as _dt
from .errors import GraphError
from .ops.axes import squeeze
from .ops.base import as_tensor
from .ops.elementwise import cast, equal, greater
from .ops.reduction import argmax, mean

__all__ = ["accuracy", "get"]


def accuracy(y_true, y_pred):
    """The fraction of correct predictions, read the way Keras' "accuracy" reads it:

    * integer labels (batch,) and scores (batch, classes): argmax(y_pred) == label;
    * one-hot labels shaped like scores with more than one class: the argmaxes agree;
    * one output (batch, 1) or (batch,): (y_pred > 0.5) == (y_true > 0.5).
    """
    y_pred = as_tensor(y_pred)
    y_true = as_tensor(y_true, like=y_pred)
    if _dt.is_int(y_true.dtype) and y_true.ndim == y_pred.ndim - 1:
        hits = equal(argmax(y_pred, -1), cast(y_true, "int64"))
    elif y_true.ndim == y_pred.ndim and y_pred.ndim >= 1 and y_pred.shape[-1] not in (1, None):
        hits = equal(argmax(y_pred, -1), argmax(y_true, -1))
    elif y_true.ndim == y_pred.ndim:
        p = squeeze(y_pred, -1) if y_pred.ndim > 1 and y_pred.shape[-1] == 1 else y_pred
        t = squeeze(y_true, -1) if y_true.ndim > 1 and y_true.shape[-1] == 1 else y_true
        t = cast(t, p.dtype) if t.dtype != p.dtype else t
        hits = equal(greater(p, 0.5), greater(t, 0.5))
    else:
        raise GraphError(f"accuracy: labels {y_true.name!r} {y_true.shape} do not fit "
                         f"predictions {y_pred.name!r} {y_pred.shape}")
    return mean(cast(hits, "float32"), name="accuracy")


_BY_NAME = {"accuracy": accuracy, "acc": accuracy}


def get(metric):
    """A metric function from its name ("accuracy") or the function itself."""
    if callable(metric):
        return metric
    if metric in _BY_NAME:
        return _BY_NAME[metric]
    raise GraphError(f"unknown metric {metric!r}; use one of {', '.join(sorted(_BY_NAME))} "
                     "or a function (y_true, y_pred) -> scalar tensor")


def name_of(metric):
    """The key a metric's values have in a History: its name or function name."""
    return "accuracy" if metric in ("accuracy", "acc") else getattr(metric, "__name__",
                                                                    str(metric))
