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
from . import blas_library
from .codegen import ERROR_MARK, generate, node_name
from .kernels import table
from .memory import keep_freed_memory
from .recursion import room_to_recurse
from .scipy_blas import single_threaded_blas
from .split import Segmented

_KERNELS_DIR = Path(__file__).parent / "kernels"


def library_files():
    """Sources the generated code calls into (their hash salts the cache key)."""
    here = Path(__file__).parent
    return sorted(_KERNELS_DIR.glob("*.py")) + [here / "codegen.py"]


def _debug():
    return os.environ.get("GRAPHDL_DEBUG", "") not in ("", "0")


def _writable(ctx, var):
    """The array an in-place update of ``var`` is written into: the stored value
    itself when it is private to the session state (made by this backend, see
    ``RunContext.private``) and the run allows it, else a private copy (staged as the
    new value after a successful run; the stored value stays untouched)."""
    stored = ctx.read_variable(var)
    if ctx.in_place_ok and ctx.private.get(var) is stored:
        return stored
    copy = np.array(stored, dtype=var.dtype, order="C")
    ctx.private[var] = copy
    return copy


class _Results:
    """Picks results of one native call as arrays the caller owns.

    A result the generated code allocated in this call (``fresh``) is handed out as
    it is the first time; anything else (a parameter, a view Numba made of an
    argument — whose ``.base`` is Numba's MemInfo, not the argument, so the Session
    could not trace it —, a second fetch of one value) is copied when it may share
    memory with an argument or a result already handed out (``np.may_share_memory``
    compares address bounds only: cheap)."""

    def __init__(self, outs, args, fresh):
        self.outs, self.args, self.fresh = outs, args, fresh
        self.handed = set()
        self.taken = []   # every array handed out
        self.views = []   # those that were not fresh

    def owned(self, spec):
        if spec is None:
            return None
        kind, what = spec
        if kind == "out" and what in self.fresh and what not in self.handed:
            self.handed.add(what)
            value = self.outs[what]
            if self.views and any(np.may_share_memory(value, t) for t in self.views):
                value = value.copy()
            self.taken.append(value)
            return value
        if kind == "out":
            self.handed.add(what)
            value = self.outs[what]
        elif kind == "param":
            value = self.args[what]
        else:
            return np.array(what)
        if isinstance(value, np.ndarray):
            if any(np.may_share_memory(value, a) for a in self.args
                   if isinstance(a, np.ndarray)) or \
                    any(np.may_share_memory(value, t) for t in self.taken):
                value = value.copy()
            self.taken.append(value)
            self.views.append(value)
        return value


def _contiguous(a):
    if a.flags.c_contiguous and a.flags.writeable:
        return a
    return np.array(a, order="C")


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
        in_place = {spec[1] for _, spec, _ in g.updates if spec[0] == "inplace"}
        # per parameter: (kind, what): "feed" tensor, "variable" Variable, "written"
        # Variable (its update is written into this argument), "constant" array
        self._params = []
        for j, v in enumerate(g.params):
            if v.kind == "constant":  # a large constant the fold pass made an argument
                self._params.append(("constant", _contiguous(np.array(v.ref))))
            elif v.kind == "variable":
                self._params.append(("written" if j in in_place else "variable", v.ref))
            else:
                self._params.append((v.kind, v.ref))
        self._constants = [_contiguous(np.array(a)) for a in g.constants]
        # every fetch and committed update a distinct array the call allocated: the run
        # hands them out as they are, with no _Results bookkeeping (the usual step)
        results = [s for s in g.fetches if s is not None] + \
            [s for _, s, _ in g.updates if s[0] != "inplace"]
        fresh = [s[1] for s in results if s[0] == "out" and s[1] in g.fresh_outs]
        self.all_fresh = len(fresh) == len(results) == len(set(fresh))

    @property
    def loaded_from_cache(self):
        """Whether Numba loaded the machine code from its on-disk cache (after a run)."""
        stats = getattr(self._fn, "stats", None)
        return bool(stats and sum(stats.cache_hits.values()))

    # -- the native function ---------------------------------------------------------
    def _load(self):
        single_threaded_blas()
        keep_freed_memory()  # no page faults on every run's big arrays (memory.py)
        try:
            module = self._entry.load()
        except Exception:  # noqa: BLE001 (a cache entry that does not import is rebuilt)
            cache.drop_numba_cache(self.path)
            self._entry = cache.store(self.source, "rebuild " + self._salt)
            self.path = self._entry.path
            module = self._entry.load()
        from .quickload import quick_loading  # noqa: PLC0415 (imports Numba)
        if hasattr(module, "SEGMENTS"):  # a huge program split into segments (split.py)
            return Segmented(module, quick_loading)
        return quick_loading(module.program)

    def _kernels(self):
        """The library kernels this program calls (kernels/library.py): the cached
        ones loaded, the others being compiled by a second process meanwhile."""
        from .kernels import library  # noqa: PLC0415 (imports Numba)
        return library.prepare(self.generated.kernels)

    def _first_call(self, args):
        """Compile (or load from Numba's cache) and call; broken caches are rebuilt."""
        kernels = self._kernels()
        self._fn = self._load()
        try:
            with room_to_recurse():
                if kernels.missing:  # compile the program while the kernels compile
                    import numba  # noqa: PLC0415
                    self._fn.compile(tuple(numba.typeof(a) for a in args))
                kernels.finish()
                return self._fn(*args)
        except ValueError as exc:
            if exc.args and exc.args[0] == ERROR_MARK:
                raise
            return self._retry_or_explain(exc, args)
        except Exception as exc:  # noqa: BLE001
            return self._retry_or_explain(exc, args)
        finally:
            kernels.close()

    def _retry_or_explain(self, exc, args):
        from numba.core.errors import NumbaError  # noqa: PLC0415
        if isinstance(exc, NumbaError):
            raise self._compile_error(exc) from None
        # e.g. an unreadable Numba cache file: drop it, import afresh, compile again
        cache.drop_numba_cache(self.path)
        sys.modules.pop(self.path.stem, None)
        self._fn = self._load()
        try:
            with room_to_recurse():
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
        kernels = self._kernels()
        fn = self._load()
        types = tuple(numba.typeof(a) for a in self.arguments(ctx, feeds, init=False))
        try:
            with room_to_recurse():
                fn.compile(types)
            kernels.finish()
        except numba.core.errors.NumbaError as exc:
            raise self._compile_error(exc) from None
        finally:
            kernels.close()
        self._fn = fn

    # -- a run -------------------------------------------------------------------------
    def arguments(self, ctx, feeds, init=True):
        """The native call's arguments: feeds, variables, constants (and the generator).
        ``init=False`` leaves uninitialized variables alone (their initial value's type
        is used), for compiling ahead of a run from another thread: it changes nothing."""
        args = []
        for kind, what in self._params:
            if kind == "feed":
                args.append(_contiguous(feeds[what]))
            elif kind == "constant":
                args.append(what)
            elif not init:
                args.append(_contiguous(ctx.read_variable(what)) if what in ctx.values
                            else np.empty(what.shape, what.dtype))
            elif kind == "written":
                args.append(_writable(ctx, what))
            else:
                args.append(_contiguous(ctx.read_variable(what)))
        args += self._constants
        if self.generated.uses_rng:
            args.append(ctx.rng)
        return args

    def _native(self, args):
        """The native call, its BLAS on the programs' thread count (blas_library.py)."""
        if self._fn is None:
            blas_library.bind()  # the first run: know the library before limiting it
        threads = blas_library.limit_threads()
        try:
            return self._fn(*args) if self._fn is not None else self._first_call(args)
        finally:
            blas_library.restore_threads(threads)

    #: the run hands out only arrays nobody else holds (see base.py): the Session
    #: skips its alias guard
    owns_results = True

    def __call__(self, ctx, feeds):
        args = self.arguments(ctx, feeds)
        try:
            outs = self._native(args)
        except ValueError as exc:
            if exc.args and exc.args[0] == ERROR_MARK:
                raise self._run_time_error(ctx, feeds, exc.args) from None
            raise
        g = self.generated
        if self.all_fresh:
            for var, spec, _ in g.updates:
                ctx.write_variable(var, (args if spec[0] == "inplace" else outs)[spec[1]])
            return [None if spec is None else outs[spec[1]] for spec in g.fetches]
        results = _Results(outs, args, g.fresh_outs)
        fetched = [results.owned(spec) for spec in g.fetches]
        for var, spec, _ in g.updates:
            if spec[0] == "inplace":  # already in the array passed (see _writable)
                ctx.write_variable(var, args[spec[1]])
                continue
            ctx.write_variable(var, results.owned(spec))  # a parameter is copied there
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


__all__ = ["CompiledProgram", "GraphError", "NumbaBackend"]
