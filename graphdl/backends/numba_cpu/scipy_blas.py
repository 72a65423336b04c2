"""SciPy's BLAS, which Numba's ``np.dot`` calls: loaded quickly, run on one thread.

Numba's ``np.dot`` reaches BLAS through ``scipy.linalg.cython_blas`` (it imports that
module by name and takes the function pointers it exports). Two costs are avoided:

* **Importing ``scipy.linalg``.** ``import scipy.linalg.cython_blas`` runs the
  ``scipy.linalg`` package first, which pulls in half of SciPy (≈ 0.2-0.4 s). The
  extension module itself needs none of it, so when it is not imported yet it is
  loaded straight from its file and registered under its full name; Numba then finds
  it in ``sys.modules``. (``import scipy.linalg`` later works as usual; only the
  attribute ``scipy.linalg.cython_blas`` is missing until something imports it.)
* **A second spinning thread pool.** SciPy's OpenBLAS keeps its own threads beside
  NumPy's; on a small machine the two pools fighting over the cores made a 0.9 ms
  training step take 9 ms. Compiled programs are single-threaded, so SciPy's OpenBLAS
  is set to one thread (``GRAPHDL_BLAS_THREADS`` overrides) by calling its own
  ``openblas_set_num_threads`` through ctypes: no library scan (threadpoolctl's
  ``ThreadpoolController()`` inspects every loaded library, ≈ 0.1 s), and no optional
  dependency. threadpoolctl is used only where the library is not found that way.
"""

import ctypes
import glob
import importlib.machinery
import importlib.util
import os
import sys
import threading

MODULE = "scipy.linalg.cython_blas"
_PREFIXES = ("scipy_openblas", "openblas")
_SUFFIXES = ("", "64_")

_DONE = []
_LOCK = threading.Lock()  # the "auto" backend compiles in a background thread


def _scipy_dir():
    spec = importlib.util.find_spec("scipy")  # a top-level package: not imported
    if spec is None or not spec.submodule_search_locations:
        return None
    return list(spec.submodule_search_locations)[0]


def load_cython_blas():
    """``scipy.linalg.cython_blas``, loaded from its file when not imported yet."""
    found = sys.modules.get(MODULE)
    if found is not None:
        return found
    root = _scipy_dir()
    paths = [] if root is None else sorted(
        p for suffix in importlib.machinery.EXTENSION_SUFFIXES
        for p in glob.glob(os.path.join(root, "linalg", "cython_blas" + suffix)))
    if not paths:  # an unusual layout: the ordinary import (its error if missing)
        return importlib.import_module(MODULE)
    loader = importlib.machinery.ExtensionFileLoader(MODULE, paths[0])
    spec = importlib.util.spec_from_file_location(MODULE, paths[0], loader=loader)
    module = importlib.util.module_from_spec(spec)
    loader.exec_module(module)
    return sys.modules.setdefault(MODULE, module)


def _openblas(what):
    """``what`` (``"set_num_threads"`` or ``"get_num_threads"``) of each OpenBLAS that
    SciPy ships, as ctypes functions."""
    root = _scipy_dir()
    if root is None:
        return []
    libs = glob.glob(os.path.join(os.path.dirname(root), "scipy.libs", "*openblas*")) + \
        glob.glob(os.path.join(root, ".dylibs", "*openblas*"))
    found = []
    for path in sorted(libs):
        try:
            lib = ctypes.CDLL(path)  # already loaded by cython_blas: the same handle
        except OSError:
            continue
        for name in (f"{p}_{what}{s}" for p in _PREFIXES for s in _SUFFIXES):
            fn = getattr(lib, name, None)
            if fn is not None:
                fn.argtypes = [ctypes.c_int] if what.startswith("set") else []
                fn.restype = None if what.startswith("set") else ctypes.c_int
                found.append(fn)
                break
    return found


def blas_threads():
    """The thread count of each OpenBLAS that SciPy ships (as it reports it)."""
    return [get() for get in _openblas("get_num_threads")]


def _limit_with_threadpoolctl(threads):
    try:
        from threadpoolctl import ThreadpoolController  # noqa: PLC0415
    except ImportError:
        return
    for lib in ThreadpoolController().lib_controllers:
        if "scipy.libs" in lib.filepath or "scipy/" in lib.filepath:
            lib.set_num_threads(threads)


def single_threaded_blas():
    """Load SciPy's BLAS for Numba and run it on ``GRAPHDL_BLAS_THREADS`` (1) threads.
    Called once per process, before the first program is loaded or compiled."""
    with _LOCK:
        if _DONE:
            return
        load_cython_blas()
        threads = int(os.environ.get("GRAPHDL_BLAS_THREADS", "1"))
        setters = _openblas("set_num_threads")
        for set_threads in setters:
            set_threads(threads)
        if not setters:
            _limit_with_threadpoolctl(threads)
        _DONE.append(True)


__all__ = ["blas_threads", "load_cython_blas", "single_threaded_blas"]
