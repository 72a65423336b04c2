"""Execution backends, looked up by name: ``Session(backend="numpy")``.

A backend turns a :class:`~graphdl.program.Program` into a callable
``run(ctx, feeds) -> list of fetched arrays`` (see :mod:`.base`). Compiled
backends register themselves here with :func:`register_backend`.
"""

import importlib
import os

from ..errors import GraphError

_BACKENDS = {}
_PRIMARY = []  # names without aliases, in registration order
_USABLE = {}   # name -> () -> bool: can this backend run on this machine?


def register_backend(name, factory, aliases=(), usable=None, primary=True):
    """Make ``Session(backend=name)`` use ``factory()`` to build the backend.

    ``usable``: optional ``() -> bool``, False where the backend cannot run here
    (the cuda backend without a GPU or simulator); such backends stay registered,
    so ``Session`` explains why, but :func:`available_backends` leaves them out.
    ``primary=False``: a backend made of others (``"auto"``), also left out of
    :func:`available_backends` (the engines tests run on).
    """
    if primary and name not in _PRIMARY:
        _PRIMARY.append(name)
    if usable is not None:
        _USABLE[name] = usable
    for n in (name, *aliases):
        _BACKENDS[n] = factory


#: what ``Session()`` uses: ``$GRAPHDL_BACKEND``, else "auto" (see docs/compiler.md)
DEFAULT = "default"


def default_backend_name():
    """The backend ``Session()`` uses: ``$GRAPHDL_BACKEND`` or ``"auto"``."""
    return os.environ.get("GRAPHDL_BACKEND") or "auto"


def get_backend(name):
    """The backend instance for ``name`` (or pass a backend object through);
    ``"default"`` is :func:`default_backend_name`."""
    if not isinstance(name, str):
        return name
    if name == DEFAULT:
        name = default_backend_name()
    if name not in _BACKENDS:
        _load_builtin()
    if name not in _BACKENDS:
        raise GraphError(f"unknown backend {name!r}; available: {', '.join(sorted(_BACKENDS))}")
    return _BACKENDS[name]()


def available_backends():
    """Primary names of the registered backends that can run here (aliases, unusable
    and composed backends left out), reference first."""
    _load_builtin()
    return [n for n in _PRIMARY if n not in _USABLE or _USABLE[n]()]


def _load_builtin():
    # each module registers itself; the reference first (the order of available_backends)
    for module in ("reference", "numba_cpu", "numba_cuda", "auto"):
        importlib.import_module(f".{module}", __name__)
