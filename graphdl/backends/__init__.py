"""Execution backends, looked up by name: ``Session(backend="numpy")``.

A backend turns a :class:`~graphdl.program.Program` into a callable
``run(ctx, feeds) -> list of fetched arrays`` (see :mod:`.base`). Compiled
backends register themselves here with :func:`register_backend`.
"""

from ..errors import GraphError

_BACKENDS = {}
_PRIMARY = []  # names without aliases, in registration order


def register_backend(name, factory, aliases=()):
    """Make ``Session(backend=name)`` use ``factory()`` to build the backend."""
    if name not in _PRIMARY:
        _PRIMARY.append(name)
    for n in (name, *aliases):
        _BACKENDS[n] = factory


def get_backend(name):
    """The backend instance for ``name`` (or pass a backend object through)."""
    if not isinstance(name, str):
        return name
    if name not in _BACKENDS:
        _load_builtin()
    if name not in _BACKENDS:
        raise GraphError(f"unknown backend {name!r}; available: {', '.join(sorted(_BACKENDS))}")
    return _BACKENDS[name]()


def available_backends():
    """Primary names of the registered backends (aliases left out), reference first."""
    _load_builtin()
    return list(_PRIMARY)


def _load_builtin():
    from . import reference  # noqa: F401,PLC0415 (registers itself)
