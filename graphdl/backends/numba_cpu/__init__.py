"""The Numba CPU backend, registered as ``"numba"``: ``Session(backend="numba")``.

Numba is imported only when a program first runs, so ``import graphdl`` stays fast.
"""

from .. import register_backend
from .backend import CompiledProgram, NumbaBackend

register_backend("numba", NumbaBackend)

__all__ = ["CompiledProgram", "NumbaBackend"]
