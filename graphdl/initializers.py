"""Variable initializers: ``gd.Variable(gd.initializers.glorot_uniform((784, 128)))``.

Each returns an :class:`~graphdl.ops.sources.Initializer`; random ones sample from the
session's seeded generator unless given their own ``seed``.
"""

import numpy as np

from .ops.sources import Initializer


def _fans(shape):
    """fan_in, fan_out for dense (in, out) and conv (out, in, kh, kw) weights."""
    if len(shape) == 2:
        return shape[0], shape[1]
    if len(shape) >= 3:
        receptive = int(np.prod(shape[2:]))
        return shape[1] * receptive, shape[0] * receptive
    n = shape[0] if shape else 1
    return n, n


def _rng(seed, rng):
    return np.random.default_rng(seed) if seed is not None else rng


def zeros(shape, dtype="float32"):
    """All zeros."""
    return Initializer(shape, dtype, lambda rng, s: np.zeros(s), "zeros")


def ones(shape, dtype="float32"):
    """All ones."""
    return Initializer(shape, dtype, lambda rng, s: np.ones(s), "ones")


def constant(shape, value, dtype="float32"):
    """Every element equal to ``value``."""
    return Initializer(shape, dtype, lambda rng, s: np.full(s, value), f"constant({value})")


def normal(shape, stddev=1.0, mean=0.0, dtype="float32", seed=None):
    """Gaussian samples N(mean, stddev²)."""
    return Initializer(shape, dtype,
                       lambda rng, s: _rng(seed, rng).normal(mean, stddev, s),
                       f"normal({mean}, {stddev})")


def uniform(shape, low=-0.05, high=0.05, dtype="float32", seed=None):
    """Uniform samples in [low, high)."""
    return Initializer(shape, dtype,
                       lambda rng, s: _rng(seed, rng).uniform(low, high, s),
                       f"uniform({low}, {high})")


def glorot_uniform(shape, dtype="float32", seed=None):
    """Glorot/Xavier uniform: U(±sqrt(6 / (fan_in + fan_out)))."""
    fan_in, fan_out = _fans(tuple(shape))
    limit = float(np.sqrt(6.0 / (fan_in + fan_out)))
    return Initializer(shape, dtype,
                       lambda rng, s: _rng(seed, rng).uniform(-limit, limit, s),
                       "glorot_uniform")


def he_normal(shape, dtype="float32", seed=None):
    """He normal: N(0, 2 / fan_in), for ReLU layers."""
    fan_in, _ = _fans(tuple(shape))
    std = float(np.sqrt(2.0 / fan_in))
    return Initializer(shape, dtype, lambda rng, s: _rng(seed, rng).normal(0.0, std, s),
                       "he_normal")


def glorot_normal(shape, dtype="float32", seed=None):
    """Glorot/Xavier normal: N(0, 2 / (fan_in + fan_out))."""
    fan_in, fan_out = _fans(tuple(shape))
    std = float(np.sqrt(2.0 / (fan_in + fan_out)))
    return Initializer(shape, dtype, lambda rng, s: _rng(seed, rng).normal(0.0, std, s),
                       "glorot_normal")


def he_uniform(shape, dtype="float32", seed=None):
    """He uniform: U(±sqrt(6 / fan_in)), for ReLU layers."""
    fan_in, _ = _fans(tuple(shape))
    limit = float(np.sqrt(6.0 / fan_in))
    return Initializer(shape, dtype,
                       lambda rng, s: _rng(seed, rng).uniform(-limit, limit, s), "he_uniform")


def orthogonal(shape, gain=1.0, dtype="float32", seed=None):
    """A (semi-)orthogonal matrix times ``gain``: keeps recurrent signals' norm (RNNs)."""
    def sample(rng, s):
        rows, cols = s[0], int(np.prod(s[1:]))
        a = _rng(seed, rng).normal(0.0, 1.0, (max(rows, cols), min(rows, cols)))
        q, r = np.linalg.qr(a)
        q = q * np.sign(np.diag(r))
        q = q if rows >= cols else q.T
        return gain * q[:rows, :cols].reshape(s)
    return Initializer(shape, dtype, sample, "orthogonal")


_BY_NAME = {"zeros": zeros, "ones": ones, "glorot_uniform": glorot_uniform,
            "glorot_normal": glorot_normal, "he_normal": he_normal, "he_uniform": he_uniform,
            "orthogonal": orthogonal}


def get(initializer):
    """An initializer function from its name ("he_normal") or the function itself.

    The function is called as ``fn(shape, dtype=...)`` and returns an Initializer.
    """
    if callable(initializer):
        return initializer
    if isinstance(initializer, str) and initializer in _BY_NAME:
        return _BY_NAME[initializer]
    raise ValueError(f"unknown initializer {initializer!r}; use one of "
                     f"{', '.join(sorted(_BY_NAME))} or a function (shape, dtype) -> "
                     "Initializer")
