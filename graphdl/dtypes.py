"""dtype rules: which dtypes exist, how they combine, which carry gradients."""

import numpy as np

from .errors import DTypeError

float32 = np.dtype("float32")
float64 = np.dtype("float64")
int32 = np.dtype("int32")
int64 = np.dtype("int64")
bool_ = np.dtype("bool")

DEFAULT_FLOAT = float32
SUPPORTED = (float32, float64, np.dtype("float16"), int32, int64, np.dtype("int8"),
             np.dtype("uint8"), bool_)


def as_dtype(dtype) -> np.dtype:
    """Normalize a dtype spelling ("float32", np.float32, ...) to ``np.dtype``."""
    if dtype is None:
        return DEFAULT_FLOAT
    try:
        dt = np.dtype(dtype)
    except TypeError as exc:
        raise DTypeError(f"unknown dtype {dtype!r}") from exc
    if dt not in SUPPORTED:
        raise DTypeError(f"unsupported dtype {dt} (supported: "
                         f"{', '.join(str(d) for d in SUPPORTED)})")
    return dt


def is_float(dtype) -> bool:
    """True for floating dtypes: the only ones gradients flow through."""
    return np.dtype(dtype).kind == "f"


def is_int(dtype) -> bool:
    return np.dtype(dtype).kind in "iu"


def result_dtype(*dtypes) -> np.dtype:
    """The dtype of an arithmetic op on inputs of these dtypes (NumPy promotion)."""
    return np.result_type(*[np.dtype(d) for d in dtypes])


def default_dtype_of(value) -> np.dtype:
    """The dtype a Python/NumPy value becomes as a graph constant.

    Python floats become float32 (the library default), Python ints int64,
    NumPy arrays keep their own dtype (float64 arrays stay float64).
    """
    if isinstance(value, np.ndarray) or isinstance(value, np.generic):
        return as_dtype(value.dtype)
    arr = np.asarray(value)
    if arr.dtype.kind == "f":
        return DEFAULT_FLOAT
    if arr.dtype.kind in "iu":
        return int64
    if arr.dtype.kind == "b":
        return bool_
    raise DTypeError(f"cannot make a tensor from {type(value).__name__} value {value!r}")
