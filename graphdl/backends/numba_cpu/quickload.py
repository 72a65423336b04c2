"""Loading a program's machine code from Numba's cache without Numba's full start-up.

Before loading a cached function, Numba's ``FunctionCache.load_overload`` calls
``target_context.refresh()``, which imports and installs every typing and lowering
registry Numba has (≈ 0.3 s, the largest part of a warm start). Loading compiled
code needs none of them: only the runtime's (NRT) symbols registered with LLVM
(``rtsys.initialize``) and the symbols modules register when imported
(``numba.cpython.hashing``); everything else the loader uses is there once
``numba`` is imported. Without NRT's symbols the loaded code crashes, so this is
exactly what a full refresh would have done for loading.

:func:`quick_loading` gives one dispatcher this loader. A cache miss is untouched:
Numba's compiler refreshes the contexts itself before it compiles. Where Numba's
internals differ from what this module knows (another Numba version), nothing is
changed and loading takes Numba's ordinary path.
"""

try:
    from numba.core.caching import FunctionCache
    from numba.core.runtime import rtsys
except ImportError:  # pragma: no cover (another Numba layout)
    FunctionCache = None

_KNOWN = FunctionCache is not None and all(
    hasattr(FunctionCache, name)
    for name in ("load_overload", "_load_overload", "_guard_against_spurious_io_errors"))


QuickLoadCache = None  # where Numba's internals are not the known ones

if _KNOWN:
    class QuickLoadCache(FunctionCache):
        """A FunctionCache whose loads skip the registries' refresh (see above)."""

        def load_overload(self, sig, target_context):
            rtsys.initialize(target_context)
            import numba.cpython.hashing  # noqa: F401,PLC0415 (registers symbols)
            with self._guard_against_spurious_io_errors():
                return self._load_overload(sig, target_context)


def quick_loading(dispatcher):
    """Let ``dispatcher`` (an ``njit(cache=True)`` function) load its cached machine
    code without the registries' refresh; returns it."""
    if _KNOWN and type(getattr(dispatcher, "_cache", None)) is FunctionCache:
        dispatcher._cache.__class__ = QuickLoadCache  # noqa: SLF001
    return dispatcher


__all__ = ["QuickLoadCache", "quick_loading"]
