"""The on-disk cache of the library kernels, keyed by the whole kernel library.

Numba keys a cached function by its own bytecode, and throws its index away when
the function's *file* changes; it does not notice when a function in another file
that it calls or inlines changes (``kernels/alloc.py``'s intrinsics, ``blas.gemm``
inside the convolutions). :func:`library_jit` is ``njit(cache=True)`` whose cache
index key also holds the sha256 of every kernel library source
(:data:`KERNEL_SOURCES`), so editing any of them recompiles every kernel, and whose
loads skip Numba's registry refresh (:mod:`.quickload`).
"""

import hashlib
from functools import cache
from pathlib import Path

from numba import njit
from numba.core.caching import FunctionCache

from .quickload import QuickLoadCache

_KERNELS = Path(__file__).parent / "kernels"

#: the files whose code ends up in a library kernel: the kernels' modules and every
#: module of the package they import (tests/test_kernel_library.py checks the list)
KERNEL_SOURCES = ("alloc.py", "blas.py", "blas_fallback.py", "conv.py", "library.py")


def sources_digest(directory):
    """sha256 of the :data:`KERNEL_SOURCES` files in ``directory``."""
    digest = hashlib.sha256()
    for name in KERNEL_SOURCES:
        digest.update(name.encode() + b"\0" + (Path(directory) / name).read_bytes() + b"\0")
    return digest.hexdigest()


@cache
def library_digest():
    """sha256 of this kernel library's sources (read once per process)."""
    return sources_digest(_KERNELS)


_Base = QuickLoadCache or FunctionCache


class LibraryCache(_Base):
    """Numba's function cache, keyed by the library's digest as well."""

    def _index_key(self, sig, codegen):
        sig_key, magic, hashes = super()._index_key(sig, codegen)
        return sig_key, magic, (*hashes, library_digest())


def library_jit(fn=None, **options):
    """``njit(cache=True, **options)`` with the library's cache (see the module
    docstring); usable as ``@library_jit`` or ``@library_jit(nogil=True)``."""
    if fn is None:
        return lambda f: library_jit(f, **options)
    dispatcher = njit(cache=True, **options)(fn)
    if type(getattr(dispatcher, "_cache", None)) is FunctionCache:
        dispatcher._cache.__class__ = LibraryCache  # noqa: SLF001
    return dispatcher


__all__ = ["KERNEL_SOURCES", "LibraryCache", "library_digest", "library_jit", "sources_digest"]
