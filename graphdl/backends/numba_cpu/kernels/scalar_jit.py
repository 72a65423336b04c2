"""The scalar functions of elementwise ops, compiled once and shared.

Generated programs call ``jitted(fn)``: one ``njit(cache=True)`` dispatcher per
scalar function per process, whose machine code (one per argument types) Numba caches
on disk beside the function's module. A new program then types a call to an already
compiled function instead of compiling the function again, and the first program of
a fresh process loads it. IEEE semantics: ``error_model="numpy"`` (the contract in
graphdl/ops/scalars.py).
"""

from numba import njit

_JITTED = {}


def jitted(fn):
    """The shared Numba dispatcher of scalar function ``fn``."""
    found = _JITTED.get(fn)
    if found is None:
        try:
            found = njit(cache=True, error_model="numpy")(fn)
        except RuntimeError:  # no place to cache it (defined in an interactive session)
            found = njit(error_model="numpy")(fn)
        _JITTED[fn] = found
    return found
