"""Generated sources on disk: content-addressed files that Numba can cache.

Numba caches a kernel only when its source is a real importable file (an
``exec``-ed function has "no locator"), and re-imports that module by name when
it loads the cache in another process. So every generated or dtype-rendered
source is written to ``<cache dir>/cuda/<prefix>_<sha>.py`` (atomically), put in
``sys.modules`` under that name *before* it executes, and its kernels use
``cache=True``. The sha covers the source and a salt (graphdl, Numba and
numba-cuda versions, the kernel library's own sources, the simulator flag), so a
change anywhere gives a new file instead of a stale cache.

The cache directory is ``GRAPHDL_CACHE_DIR`` or ``~/.cache/graphdl``, the same
one the CPU backend uses.
"""

import hashlib
import importlib.util
import os
import sys
from functools import lru_cache
from pathlib import Path

from ...fileio import write_atomic
from .device import simulating

_HERE = Path(__file__).resolve().parent


def cache_dir():
    """Where generated CUDA sources (and Numba's cache next to them) live."""
    root = os.environ.get("GRAPHDL_CACHE_DIR") or os.path.join(
        os.path.expanduser("~"), ".cache", "graphdl")
    path = Path(root) / "cuda"
    path.mkdir(parents=True, exist_ok=True)
    return path


@lru_cache(maxsize=1)
def salt():
    """Versions and library sources that generated code depends on."""
    import numba  # noqa: PLC0415

    from ... import __version__  # noqa: PLC0415
    try:
        from importlib.metadata import version  # noqa: PLC0415
        cuda_version = version("numba-cuda")
    except Exception:  # not installed as a distribution (a source checkout)
        cuda_version = "?"
    h = hashlib.sha256()
    for path in sorted(_HERE.rglob("*.py")):
        h.update(path.read_bytes())
    return (f"graphdl {__version__}; numba {numba.__version__}; numba-cuda {cuda_version}; "
            f"sim {int(simulating())}; library {h.hexdigest()[:16]}")


def key(source):
    return hashlib.sha256((salt() + "\n" + source).encode()).hexdigest()[:20]


_MODULES = {}


def load_source(source, prefix="kernels"):
    """Import ``source`` as a module from its content-addressed file; return the module."""
    name = f"graphdl_cuda_{prefix}_{key(source)}"
    module = _MODULES.get(name) or sys.modules.get(name)
    if module is not None:
        return module
    path = cache_dir() / f"{name}.py"
    if not path.exists() or path.read_text() != source:
        _write_atomically(path, source)
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module  # before exec: Numba's cache re-imports it by name
    try:
        spec.loader.exec_module(module)
    except BaseException:
        del sys.modules[name]
        raise
    _MODULES[name] = module
    return module


def _write_atomically(path, text):
    write_atomic(path, text.encode())


_DTYPE_LINE = "from numba import float32 as DT  # graphdl: dtype"


def typed_library(module_file, dtype):
    """The library module ``module_file`` (a kernels/*.py path) rendered for one
    float ``dtype``: its marked ``DT`` import line names that dtype, so typed shared
    arrays and accumulators get the right type and the kernels stay cacheable."""
    text = Path(module_file).read_text()
    if _DTYPE_LINE not in text:
        raise ValueError(f"{module_file} has no '{_DTYPE_LINE}' line")
    text = text.replace(_DTYPE_LINE, f"from numba import {dtype} as DT  # rendered")
    text = text.replace("from .common import", "from graphdl.backends.numba_cuda.kernels"
                        ".common import")
    return load_source(text, prefix=f"{Path(module_file).stem}_{dtype}")
