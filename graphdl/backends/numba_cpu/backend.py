"""The "numba" backend: a Program becomes one natively compiled function.

``compile(program)``: ``graphdl.passes.optimize`` -> lowered IR -> one generated
source (:mod:`.codegen`) -> the on-disk cache (:mod:`..numba_common.cache`) ->
a :class:`CompiledProgram`. Numba compiles (or loads from its cache) on the first
run, when the argument types are known; one compiled function serves every batch
size. A run orders feeds, variables and constants into arguments, makes one native
call, and commits variable updates only after it returned: a run that raises
changes no variable.
"""

import copy
import os
import re
import sys
from pathlib import Path

import numpy as np

from ...errors import GraphError
from ...passes import optimize
from ..base import Backend
from ..lowering import LoweringError
from ..numba_common import cache
from .codegen import ERROR_MARK, generate, node_name
from .kernels import table

_KERNELS_DIR = Path(__file__).parent / "kernels"


def library_files():
    """Sources the generated code calls into (their hash salts the cache key)."""
    here = Path(__file__).parent
    return sorted(_KERNELS_DIR.glob("*.py")) + [here / "codegen.py"]


def _debug():
    return os.environ.get("GRAPHDL_DEBUG", "") not in ("", "0")


def _owned(value, inputs, taken):
    """``value``, copied if it may share memory with an argument of the call or with a
    result already handed out. Numba returns views of its inputs (``W[0]``, a reshape)
    whose ``.base`` is Numba's MemInfo, not the input array, so the Session's alias guard
    cannot trace them; ``np.may_share_memory`` compares address bounds only (cheap)."""
    if isinstance(value, np.ndarray):
        if any(np.may_share_memory(value, a) for a in inputs) or \
                any(np.may_share_memory(value, t) for t in taken):
            value = value.copy()
        taken.append(value)
    return value


def _contiguous(a):
    if a.flags.c_contiguous and a.flags.writeable:
        return a
    return np.array(a, order="C")


_BLAS_LIMITED = []


def single_threaded_blas():
    """Run the BLAS that Numba's ``np.dot`` calls (SciPy's OpenBLAS) on one thread.

    Compiled programs are single-threaded; SciPy's and NumPy's OpenBLAS each keep
    their own spinning thread pool, and on a small machine the two pools fighting
    over the cores made a 0.9 ms training step take 9 ms. ``GRAPHDL_BLAS_THREADS``
    overrides the count.
    """
    if _BLAS_LIMITED:
        return
    _BLAS_LIMITED.append(True)
    import scipy.linalg.cython_blas  # noqa: F401,PLC0415 (loads SciPy's BLAS)
    try:
        from threadpoolctl import ThreadpoolController  # noqa: PLC0415
    except ImportError:
        return
    threads = int(os.environ.get("GRAPHDL_BLAS_THREADS", "1"))
    for lib in ThreadpoolController().lib_controllers:
        if "scipy.libs" in lib.filepath or "scipy/" in lib.filepath:
            lib.set_num_threads(threads)


def _numba_reason(text):
    """The informative lines of a Numba error (not its pipeline boilerplate)."""
    keep = [ln.strip() for ln in text.splitlines()
            if ln.strip() and not ln.startswith(("Failed in", "During:", "File ", "  File"))
            and not ln.strip().startswith(("^", "File "))]
    return " ".join(keep[:4])


class NumbaBackend(Backend):
    """Compiles each Program to one native function with Numba (CPU, one thread)."""

    name = "numba"

    def compile(self, program, log=False):
        """``log=True`` keeps every pass's listing in ``.log`` (``graphdl compile``)."""
        return CompiledProgram(optimize(program, log=log))


class CompiledProgram:
    """A callable ``run(ctx, feeds)`` over one generated, compiled program.

    ``source`` is the generated Python, ``log`` the passes' dumps, ``lp`` the lowered
    program, ``cache_hit`` whether the source was already in the on-disk cache.
    """

    def __init__(self, lp):
        self.lp = lp
        self.log = lp.log
        self.generated = generate(lp, table())
        self.source = self.generated.source
        if _debug():
            print(f"--- graphdl generated source ---\n{self.source}", file=sys.stderr)
        self._salt = cache.salt(library_files() + self.generated.scalar_files)
        self._entry = cache.store(self.source, self._salt)
        self.cache_hit = self._entry.hit
        self.path = self._entry.path
        self._fn = None
        g = self.generated
        self._feeds = [v.ref for v in g.params if v.kind == "feed"]
        self._variables = [v.ref for v in g.params if v.kind == "variable"]
        self._kinds = [v.kind for v in g.params]
        # "constant" params (large constants the fold pass turned into arguments)
        self._constant_params = [_contiguous(np.array(v.ref)) for v in g.params
                                 if v.kind == "constant"]
        self._constants = [_contiguous(np.array(a)) for a in g.constants]

    @property
    def loaded_from_cache(self):
        """Whether Numba loaded the machine code from its on-disk cache (after a run)."""
        stats = getattr(self._fn, "stats", None)
        return bool(stats and sum(stats.cache_hits.values()))

    # -- the native function ---------------------------------------------------------
    def _load(self):
        single_threaded_blas()
        try:
            module = self._entry.load()
        except Exception:  # noqa: BLE001 (a cache entry that does not import is rebuilt)
            cache.drop_numba_cache(self.path)
            self._entry = cache.store(self.source, "rebuild " + self._salt)
            self.path = self._entry.path
            module = self._entry.load()
        return module.program

    def _first_call(self, args):
        """Compile (or load from Numba's cache) and call; broken caches are rebuilt."""
        self._fn = self._load()
        try:
            return self._fn(*args)
        except ValueError as exc:
            if exc.args and exc.args[0] == ERROR_MARK:
                raise
            return self._retry_or_explain(exc, args)
        except Exception as exc:  # noqa: BLE001
            return self._retry_or_explain(exc, args)

    def _retry_or_explain(self, exc, args):
        from numba.core.errors import NumbaError  # noqa: PLC0415
        if isinstance(exc, NumbaError):
            raise self._compile_error(exc) from None
        # e.g. an unreadable Numba cache file: drop it, import afresh, compile again
        cache.drop_numba_cache(self.path)
        sys.modules.pop(self.path.stem, None)
        self._fn = self._entry.load().program
        try:
            return self._fn(*args)
        except NumbaError as again:
            raise self._compile_error(again) from None

    def _compile_error(self, exc):
        text = str(exc)
        lop = None
        for match in re.finditer(re.escape(self.path.name) + r'", line (\d+)', text):
            lop = self.generated.op_at_line(int(match.group(1))) or lop
        if lop is None:
            return LoweringError(f"numba backend: the generated program did not compile: "
                                 f"{_numba_reason(text) or type(exc).__name__}")
        return LoweringError(f"numba backend cannot compile op {lop.op.name!r} (node "
                             f"{node_name(lop)!r}): {_numba_reason(text)}")

    def warm_up(self, ctx, feeds):
        """Compile (or load) the native function for the types of ``feeds`` and the
        session's variables without running it (the "auto" backend calls this from a
        background thread)."""
        if self._fn is not None:
            return
        import numba  # noqa: PLC0415
        fn = self._load()
        types = tuple(numba.typeof(a) for a in self.arguments(ctx, feeds, init=False))
        try:
            fn.compile(types)
        except numba.core.errors.NumbaError as exc:
            raise self._compile_error(exc) from None
        self._fn = fn

    # -- a run -------------------------------------------------------------------------
    def arguments(self, ctx, feeds, init=True):
        """The native call's arguments: feeds, variables, constants (and the generator).
        ``init=False`` leaves uninitialized variables alone (their initial value's type
        is used), for compiling ahead of a run from another thread."""
        args = []
        fi = vi = ci = 0
        for kind in self._kinds:
            if kind == "feed":
                args.append(_contiguous(feeds[self._feeds[fi]]))
                fi += 1
            elif kind == "constant":
                args.append(self._constant_params[ci])
                ci += 1
            else:
                var = self._variables[vi]
                if init or var in ctx.values:
                    args.append(_contiguous(ctx.read_variable(var)))
                else:
                    args.append(np.empty(var.shape, var.dtype))
                vi += 1
        args += self._constants
        if self.generated.uses_rng:
            args.append(ctx.rng)
        return args

    def __call__(self, ctx, feeds):
        args = self.arguments(ctx, feeds)
        try:
            outs = self._fn(*args) if self._fn is not None else self._first_call(args)
        except ValueError as exc:
            if exc.args and exc.args[0] == ERROR_MARK:
                raise self._run_time_error(ctx, feeds, exc.args) from None
            raise
        g = self.generated
        inputs = [a for a in args if isinstance(a, np.ndarray)]
        taken = []  # results handed out so far: no two may share memory
        fetched = [_owned(self._pick(spec, outs, args), inputs, taken) for spec in g.fetches]
        for var, spec, must_copy in g.updates:
            value = self._pick(spec, outs, args)
            if must_copy and spec[0] != "out":
                value = value.copy()
            ctx.write_variable(var, _owned(value, inputs, taken))
        return fetched

    def _run_time_error(self, ctx, feeds, args):
        """A run-time check failed: run the program on the reference backend, on copies
        of the session state, so the error is the reference's own (same class, same
        message naming the node and the given shapes); else name the failed check."""
        from ..reference import ReferenceBackend  # noqa: PLC0415
        scratch = copy.copy(ctx)
        scratch.values = dict(ctx.values)
        scratch.rng = copy.deepcopy(ctx.rng)
        if getattr(ctx, "_rng_state", None) is not None:  # the draws of the failed run
            scratch.rng.bit_generator.state = ctx._rng_state  # noqa: SLF001
        if hasattr(ctx, "begin"):
            scratch.begin()
        try:
            ReferenceBackend().compile(self.lp.program)(scratch, feeds)
        except GraphError as exc:
            return exc
        return self.generated.error(args)

    @staticmethod
    def _pick(spec, outs, args):
        if spec is None:
            return None
        kind, what = spec
        if kind == "out":
            return outs[what]
        if kind == "param":
            return args[what]
        return np.array(what)


__all__ = ["CompiledProgram", "GraphError", "NumbaBackend"]
