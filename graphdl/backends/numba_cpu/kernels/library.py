"""The library kernels as generated programs call them: by address.

When an njit function calls another dispatcher, Numba links the callee's LLVM
module into the caller's and optimizes and compiles the whole again: every program
calling the convolution kernels carried (and re-optimized, ≈ 4.5 s for the MNIST
CNN's training step) a copy of them and of everything they call. Here a generated
program calls a kernel through a function pointer instead:

* Each kernel has one fixed signature per dtype (:data:`KERNELS`: arrays of the
  variant's dtype, C-contiguous unless marked ``A``, ints as int64, flags as bool,
  scalars as float64), compiled once with :func:`~..kernel_cache.library_jit` (on
  disk, keyed by the whole kernel library) and shared by every program.
* Its address goes into a process-global cell (a ``ctypes`` pointer) that LLVM
  knows by a fixed symbol name, ``graphdl_kernel_<name>_<dtype>``. The call site
  (:func:`_caller`, a Numba intrinsic of the same name as the kernel) loads the
  cell and calls the kernel with Numba's own calling convention, so arrays are
  passed as Numba passes them and a kernel's exception propagates as from any
  call. The program's machine code holds the symbol, not an address, so it caches
  on disk like any other; an empty cell raises instead of crashing.
* A program therefore compiles without its kernels and they without it: the
  backend asks :func:`prepare` for the kernels a program needs (it knows their
  dtypes from the IR), which loads the cached ones and compiles the others in a
  second process while this one compiles the program (:class:`Pending`).
"""

import ctypes
import importlib
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import llvmlite.binding as llvm
from llvmlite import ir
from numba import types
from numba.core import cgutils
from numba.core.errors import TypingError
from numba.extending import intrinsic

DTYPES = ("float32", "float64")

_INT, _BOOL, _FLOAT = "int", "bool", "float"
_CONV = ("C4", "C4", "C4", _INT, _INT, _INT, _INT)
_POOL = ("C4", "C4") + (_INT,) * 6
_POOL_BACKPROP = ("C4", "C4", "C4") + (_INT,) * 6
_CONV_MODULE = "graphdl.backends.numba_cpu.kernels.conv"

#: name -> (module, parameters): "C<n>" an n-d C-contiguous array of the variant's
#: dtype, "A<n>" one of any layout, "int" int64, "bool", "float" float64
KERNELS = {
    "gemm": ("graphdl.backends.numba_cpu.kernels.blas",
             ("A2", "A2", "C2", _BOOL, _BOOL, _FLOAT, _FLOAT)),
    "conv2d": (_CONV_MODULE, _CONV),
    "conv2d_backprop_input": (_CONV_MODULE, _CONV),
    "conv2d_backprop_filter": (_CONV_MODULE, _CONV),
    "max_pool2d": (_CONV_MODULE, _POOL),
    "avg_pool2d": (_CONV_MODULE, _POOL),
    "max_pool2d_backprop": (_CONV_MODULE, _POOL_BACKPROP),
    "max_pool2d_gather": (_CONV_MODULE, _POOL_BACKPROP),
    "avg_pool2d_backprop": (_CONV_MODULE, _POOL),
}

#: kernels that call other kernels by address: those are loaded first (same dtype)
NEEDS = {name: ("gemm",) for name in
         ("conv2d", "conv2d_backprop_input", "conv2d_backprop_filter")}

_SCALARS = {_INT: types.int64, _BOOL: types.boolean, _FLOAT: types.float64}


def symbol(name, dtype):
    """The LLVM symbol of the cell holding kernel ``name``'s ``dtype`` variant."""
    return f"graphdl_kernel_{name}_{dtype}"


def signature(name, dtype):
    """The argument types kernel ``name`` is compiled for in its ``dtype`` variant."""
    dt = getattr(types, dtype)
    return tuple(_SCALARS.get(p) or types.Array(dt, int(p[1:]), p[0])
                 for p in KERNELS[name][1])


# one pointer-sized cell per variant, known to LLVM by name before any program that
# refers to it is compiled or loaded (generated modules import this module first)
_CELLS = {}
for _name in KERNELS:
    for _dtype in DTYPES:
        _cell = _CELLS[_name, _dtype] = ctypes.c_void_p(0)
        llvm.add_symbol(symbol(_name, _dtype), ctypes.addressof(_cell))
_OVERLOADS = {}  # (name, dtype) -> Numba's compile result, kept alive with its code


def loaded(name, dtype):
    """Whether the variant's address is in its cell (programs may call it)."""
    return bool(_CELLS[name, dtype].value)


def _variant(name, args):
    """The dtype variant a call with Numba types ``args`` selects; a TypingError
    names the kernel and the argument that does not fit its signature."""
    params = KERNELS[name][1]
    if len(args) != len(params):
        raise TypingError(f"library kernel {name} takes {len(params)} arguments, "
                          f"got {len(args)}")
    arrays = [a for a in args if isinstance(a, types.Array)]
    dtype = str(arrays[0].dtype) if arrays else None
    if dtype not in DTYPES:
        raise TypingError(f"library kernel {name}: arrays must be float32 or float64, "
                          f"got {arrays[0] if arrays else None}")
    for k, (arg, param, want) in enumerate(zip(args, params, signature(name, dtype))):
        if isinstance(want, types.Array):
            ok = (isinstance(arg, types.Array) and arg.dtype == want.dtype
                  and arg.ndim == want.ndim and arg.mutable and arg.aligned
                  and (want.layout == "A" or arg.layout == "C"))
        elif param == _FLOAT:
            ok = isinstance(arg, (types.Float, types.Integer))
        elif param == _BOOL:
            ok = isinstance(arg, types.Boolean)
        else:
            ok = isinstance(arg, types.Integer)
        if not ok:
            raise TypingError(f"library kernel {name}: argument {k} is {arg}, the "
                              f"{dtype} variant takes {want}")
    return dtype


def _caller(name):
    """The intrinsic a generated program calls as ``name(...)`` (see the module
    docstring): arguments cast to the variant's signature, one indirect call."""

    def typer(typingctx, *args):
        dtype = _variant(name, args)
        want = signature(name, dtype)

        def codegen(context, builder, sig, values):
            values = [context.cast(builder, v, t, w)
                      for v, t, w in zip(values, sig.args, want)]
            fnty = context.call_conv.get_function_type(types.none, want)
            module = builder.module
            sym = symbol(name, dtype)
            cell = module.globals.get(sym)
            if cell is None:
                cell = ir.GlobalVariable(module, ir.IntType(8).as_pointer(), sym)
                cell.linkage = "external"
            address = builder.load(cell)
            with builder.if_then(cgutils.is_null(builder, address), likely=False):
                context.call_conv.return_user_exc(
                    builder, RuntimeError,
                    (f"graphdl: library kernel {name} ({dtype}) was not loaded",))
            fn = builder.bitcast(address, fnty.as_pointer())
            status, _ = context.call_conv.call_function(builder, fn, types.none, want,
                                                        values)
            with builder.if_then(status.is_error, likely=False):
                context.call_conv.return_status_propagate(builder, status)
            return context.get_dummy_value()

        return types.none(*args), codegen

    # an intrinsic needs its arity spelled out (Numba lowers *args as one tuple)
    params = ", ".join(f"a{k}" for k in range(len(KERNELS[name][1])))
    namespace = {"_typer": typer}
    exec(f"def {name}(typingctx, {params}):\n    return _typer(typingctx, {params})",  # noqa: S102
         namespace)
    return intrinsic(namespace[name])


for _name in KERNELS:
    globals()[_name] = _caller(_name)


# -- loading and compiling -------------------------------------------------------------
def _dispatcher(name):
    return getattr(importlib.import_module(KERNELS[name][0]), name)


def _install(name, dtype, cres):
    _OVERLOADS[name, dtype] = cres
    _CELLS[name, dtype].value = cres.library.get_pointer_to_function(
        cres.fndesc.llvm_func_name)


def load_cached(name, dtype):
    """Load the variant from Numba's on-disk cache only; whether it is loaded now."""
    if loaded(name, dtype):
        return True
    from numba.core.compiler_lock import global_compiler_lock  # noqa: PLC0415
    dispatcher, sig = _dispatcher(name), signature(name, dtype)
    with global_compiler_lock:
        cres = dispatcher.overloads.get(sig)
        if cres is None:
            cres = dispatcher._cache.load_overload(sig, dispatcher.targetctx)  # noqa: SLF001
            if cres is None:
                return False
            dispatcher._cache_hits[sig] += 1  # noqa: SLF001 (as Dispatcher.compile counts)
            dispatcher.targetctx.insert_user_function(cres.entry_point, cres.fndesc,
                                                      [cres.library])
            dispatcher.add_overload(cres)
    _install(name, dtype, cres)
    return True


def ensure(name, dtype):
    """Load the variant (and those it calls, :data:`NEEDS`), compiling it (and
    caching it on disk) when not cached."""
    for needed in NEEDS.get(name, ()):
        ensure(needed, dtype)
    _load_or_compile(name, dtype)


def _load_or_compile(name, dtype):
    """The variant alone (compiling it needs only the signatures of those it calls)."""
    if load_cached(name, dtype):
        return
    dispatcher, sig = _dispatcher(name), signature(name, dtype)
    dispatcher.compile(sig)
    _install(name, dtype, dispatcher.overloads[sig])


def _parallel():
    """Whether missing kernels compile in a second process: more than one CPU
    available to this one and not turned off (``GRAPHDL_KERNEL_PROCESS=0``)."""
    if os.environ.get("GRAPHDL_KERNEL_PROCESS", "1") in ("0", ""):
        return False
    try:
        return len(os.sched_getaffinity(0)) > 1
    except AttributeError:  # pragma: no cover (not Linux)
        return (os.cpu_count() or 1) > 1


def _claim(claims, name, dtype):
    """Take variant (name, dtype) to compile: True for the first of the two
    processes to ask (an exclusively created file in the shared ``claims`` dir)."""
    try:
        os.close(os.open(os.path.join(claims, f"{name}:{dtype}"),
                         os.O_CREAT | os.O_EXCL | os.O_WRONLY))
    except FileExistsError:
        return False
    return True


# rough compile cost, for the order of work: the second process starts with the
# costliest, this one takes from the cheap end once its program is compiled
_COST = {"conv2d": 4, "conv2d_backprop_filter": 3, "conv2d_backprop_input": 3,
         "max_pool2d_backprop": 2, "max_pool2d": 2, "max_pool2d_gather": 2}


class Pending:
    """Variants a program needs that were not cached, being compiled by a second
    process (``process``, claiming each before it starts it in the ``claims`` dir);
    :meth:`finish` has them all loaded."""

    def __init__(self, missing, process=None, claims=None):
        self.missing = missing
        self.process = process
        self.claims = claims

    def finish(self):
        """Compile here, from the cheap end, what the second process has not started
        yet; then load every variant (from the cache the other process filled, or
        compiled here if it failed or there was none)."""
        if self.process is not None:
            for name, dtype in reversed(self.missing):
                if self.process.poll() is not None:
                    break
                if _claim(self.claims, name, dtype):
                    _load_or_compile(name, dtype)
        self.close()
        for name, dtype in self.missing:
            ensure(name, dtype)
        self.missing = []

    def close(self):
        """Wait for the second process, if any (also after a failed compile)."""
        if self.process is not None:
            self.process.wait()
            self.process = None
        if self.claims is not None:
            shutil.rmtree(self.claims, ignore_errors=True)
            self.claims = None


def prepare(variants):
    """Load the cached ``(name, dtype)`` variants; start compiling the others in a
    second process when that helps (:func:`_parallel`). Returns a :class:`Pending`
    whose ``finish()`` must run before a program calling them does."""
    variants = set(variants) | {(n, d) for name, d in variants for n in NEEDS.get(name, ())}
    missing = sorted((v for v in variants if not load_cached(*v)),
                     key=lambda v: (-_COST.get(v[0], 1), v))
    if not missing or not _parallel():
        return Pending(missing)
    root = str(Path(__file__).resolve().parents[4])
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(p for p in (root, env.get("PYTHONPATH")) if p)
    claims = tempfile.mkdtemp(prefix="graphdl-kernels-")
    try:
        process = subprocess.Popen(
            [sys.executable, "-m", __name__, claims, *(f"{n}:{d}" for n, d in missing)],
            env=env, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL)
    except OSError:  # no second process: compile them here when finishing
        shutil.rmtree(claims, ignore_errors=True)
        return Pending(missing)
    return Pending(missing, process, claims)


def _main(claims, specs):
    """``python -m ...kernels.library CLAIMS name:dtype ...``: compile (or load) into
    Numba's on-disk cache each variant not claimed by the parent; errors are left to
    the parent, which compiles what is still missing itself."""
    for spec in specs:
        name, dtype = spec.split(":")
        if _claim(claims, name, dtype):
            _load_or_compile(name, dtype)


if __name__ == "__main__":
    _main(sys.argv[1], sys.argv[2:])


__all__ = ["DTYPES", "KERNELS", "NEEDS", "Pending", "ensure", "load_cached", "loaded", "prepare",
           "signature", "symbol", *KERNELS]
