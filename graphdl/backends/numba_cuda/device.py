"""Is there somewhere to run CUDA kernels: a GPU, or Numba's simulator?

Kept free of ``numba.cuda`` imports at module level so that importing graphdl
never pays for (or fails on) CUDA; :func:`require_device` is called when a
``Session(backend="cuda")`` is built.
"""

import os

from ...errors import GraphError

SIMULATOR_HINT = ("set NUMBA_ENABLE_CUDASIM=1 in the environment before Python starts "
                  "to run the CUDA backend on Numba's CUDA simulator (slow: one OS thread "
                  "per CUDA thread, tiny shapes only)")


class CudaUnavailableError(GraphError):
    """No CUDA device (and no simulator) to run the ``cuda`` backend on."""


def simulating():
    """True when Numba runs CUDA kernels on its simulator (NUMBA_ENABLE_CUDASIM=1)."""
    return os.environ.get("NUMBA_ENABLE_CUDASIM", "0") not in ("", "0")


def why_unavailable():
    """None when kernels can run here, else a sentence saying why not."""
    try:
        from numba import cuda  # noqa: PLC0415
    except ImportError as exc:
        return (f"numba-cuda is not installed ({exc}); install it with "
                "pip install 'graphdl[cuda]'")
    if simulating():
        return None
    try:
        if cuda.is_available():
            return None
    except Exception as exc:  # a broken driver install: say so, do not crash
        return f"no CUDA device was found ({type(exc).__name__}: {exc}); {SIMULATOR_HINT}"
    return f"no CUDA device was found; {SIMULATOR_HINT}"


def is_usable():
    return why_unavailable() is None


def require_device():
    """Raise :class:`CudaUnavailableError` with the reason unless kernels can run."""
    reason = why_unavailable()
    if reason is not None:
        raise CudaUnavailableError(f"Session(backend='cuda'): {reason}")
