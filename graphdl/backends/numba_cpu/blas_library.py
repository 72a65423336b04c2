"""Which BLAS compiled programs call: NumPy's own OpenBLAS where it can be found,
else SciPy's (the one Numba's ``np.dot`` uses).

The ``gemm`` library kernel (kernels/blas.py) calls two symbols of graphdl's own,
``graphdl_cblas_sgemm`` and ``graphdl_cblas_dgemm``, with the ILP64 CBLAS signature:
``(order, trans_a, trans_b, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc)``, the
three flags C ints, sizes and leading dimensions 64-bit ints, ``alpha``/``beta`` by
value in the matrices' dtype. :func:`bind` gives them an address once per process,
before any kernel is compiled or loaded (``llvmlite.binding.add_symbol``): the
machine code refers to the names only, so it caches on disk and a cached kernel runs
on whichever library this process bound.

* **NumPy's OpenBLAS** (``numpy.libs/libscipy_openblas64_*``: ``scipy_cblas_sgemm64_``),
  where NumPy ships one built with 64-bit integers. Measured on the MLP step's two
  big matmuls (784x128 by batch 128, one thread): 6 % and 11 % faster than SciPy's
  (NumPy 2.4 bundles OpenBLAS 0.3.31, SciPy 1.16 0.3.30) — and the same library, so
  the same speed, as ``np.dot`` in the user's own code.
* **Otherwise** (NumPy built against MKL, Accelerate, a system BLAS; or
  ``GRAPHDL_NUMPY_BLAS=0``): two adapters compiled as Numba ``cfunc``s
  (kernels/blas.py) that call SciPy's BLAS through Numba's ``numba_xxgemm``, exactly
  what the kernel called before.

**Threads.** Compiled programs run their BLAS on ``GRAPHDL_BLAS_THREADS`` threads (1),
as they always did (two libraries' spinning pools fighting over the cores made a
0.9 ms step take 9 ms; scipy_blas.py). SciPy's OpenBLAS is set once per process
(nobody else is expected to use it). NumPy's is the user's too: it is not changed for
good; :func:`limit_threads` / :func:`restore_threads` set it around each native run,
and only where its count differs (≈ 5 µs a run then; nothing where NumPy already
runs on that many threads, as under ``threadpoolctl.threadpool_limits(1)``). OpenBLAS
keeps one count per process (its ``openblas_set_num_threads_local`` sets the same
global in this build): NumPy calls made by other threads while a program runs use
the program's count; the count each run restores is the one it found, and a run that
finds the count already limited changes nothing, so concurrent runs cannot leave it
limited.
"""

import ctypes
import glob
import importlib.util
import os
import threading

SYMBOLS = {"float32": "graphdl_cblas_sgemm", "float64": "graphdl_cblas_dgemm"}

_LOCK = threading.Lock()
_STATE = {}  # "library": "numpy" | "scipy"; "get"/"set": NumPy's thread functions


def _numpy_openblas_paths():
    spec = importlib.util.find_spec("numpy")
    if spec is None or not spec.submodule_search_locations:
        return []
    root = list(spec.submodule_search_locations)[0]
    return sorted(glob.glob(os.path.join(os.path.dirname(root), "numpy.libs", "*openblas*"))
                  + glob.glob(os.path.join(root, ".dylibs", "*openblas*")))


def find_numpy_openblas():
    """NumPy's bundled ILP64 OpenBLAS as ``{"path", "sgemm", "dgemm", "get", "set"}``
    (ctypes functions), or None where there is none (or ``GRAPHDL_NUMPY_BLAS=0``)."""
    if os.environ.get("GRAPHDL_NUMPY_BLAS", "1") == "0":
        return None
    for path in _numpy_openblas_paths():
        try:
            lib = ctypes.CDLL(path)  # NumPy loaded it already: the same handle
        except OSError:
            continue
        for prefix in ("scipy_", ""):  # NumPy 2 (scipy-openblas64), NumPy 1.x (openblas64_)
            names = {"sgemm": f"{prefix}cblas_sgemm64_", "dgemm": f"{prefix}cblas_dgemm64_",
                     "get": f"{prefix}openblas_get_num_threads64_",
                     "set": f"{prefix}openblas_set_num_threads64_"}
            found = {key: getattr(lib, name, None) for key, name in names.items()}
            if all(fn is not None for fn in found.values()):
                found["get"].argtypes, found["get"].restype = [], ctypes.c_int
                found["set"].argtypes, found["set"].restype = [ctypes.c_int], None
                found["path"] = path
                return found
    return None


def _address(fn):
    return ctypes.cast(fn, ctypes.c_void_p).value


def bind():
    """Bind the kernel's BLAS symbols (once per process; kernels/blas.py calls it on
    import, before anything is compiled or loaded). Returns the library's name."""
    with _LOCK:
        if "library" in _STATE:
            return _STATE["library"]
        from llvmlite import binding  # noqa: PLC0415 (Numba is being imported anyway)

        found = find_numpy_openblas()
        if found is not None:
            addresses = {"float32": _address(found["sgemm"]), "float64": _address(found["dgemm"])}
            _STATE.update(library="numpy", get=found["get"], set=found["set"])
        else:
            from .kernels.blas_fallback import adapters  # noqa: PLC0415 (compiles cfuncs)
            from .scipy_blas import load_cython_blas  # noqa: PLC0415

            load_cython_blas()  # numba_xxgemm takes its function pointers from there
            addresses = {dtype: fn.address for dtype, fn in adapters().items()}
            _STATE.update(library="scipy")
        _STATE["want"] = wanted_threads()  # read once, as scipy_blas.py does
        for dtype, symbol in SYMBOLS.items():
            binding.add_symbol(symbol, addresses[dtype])
        return _STATE["library"]


def library():
    """``"numpy"`` or ``"scipy"``: whose BLAS the gemm kernel calls (binds first)."""
    return bind()


def wanted_threads():
    """``GRAPHDL_BLAS_THREADS`` (default 1): the BLAS threads of a compiled program."""
    return int(os.environ.get("GRAPHDL_BLAS_THREADS", "1"))


def numpy_threads():
    """NumPy's OpenBLAS thread count, or None where the kernel does not call it."""
    get = _STATE.get("get")
    return None if get is None else get()


def limit_threads():
    """Before a native run: NumPy's OpenBLAS (when the kernel calls it) on
    ``GRAPHDL_BLAS_THREADS`` threads. Returns the count to restore, or None when
    nothing was changed."""
    get = _STATE.get("get")
    if get is None:
        return None
    found, want = get(), _STATE["want"]
    if found == want:
        return None
    _STATE["set"](want)
    return found


def restore_threads(previous):
    """After a native run (also a failed one): undo :func:`limit_threads`."""
    if previous is not None:
        _STATE["set"](previous)


__all__ = ["SYMBOLS", "bind", "find_numpy_openblas", "library", "limit_threads",
           "numpy_threads", "restore_threads", "wanted_threads"]
