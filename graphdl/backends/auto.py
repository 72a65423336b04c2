"""The "auto" backend: interpret a program at first, compile it once it repeats.

A user's first tiny graph should not wait seconds for a compiler, and a training
loop should not run interpreted. So "auto" runs each program on the NumPy reference
backend, and from its ``compile_after``-th run (default 2: a program run twice is
probably in a loop) compiles it with the "numba" backend in a background thread,
still interpreting meanwhile; the run after the native program is ready, it switches.
Both backends share the session state (variables, the random generator) and compute
the same values (to float rounding), so the switch is invisible but for speed.

If the compiled backend cannot compile the program (an op without a lowering), auto
warns once and keeps interpreting: unlike ``backend="numba"``, auto promises only
that results are right. ``GRAPHDL_AUTO_COMPILE_AFTER=N`` changes the threshold
(0: never compile).

A program whose generated source is larger than ``max_source`` characters (default
250,000; ``GRAPHDL_AUTO_MAX_SOURCE``) is not compiled either. The numba backend cuts a
large program into segments compiled one by one (numba_cpu/split.py), so its compile
time grows linearly with the source — about 0.45 s of CPU per 1,000 characters on
the project's machine (the 40-step GRU's 485,000-character training step: 220 s, 0.9
GB) — but a background compile of minutes holds a core and, while Numba types and
lowers in Python, part of the GIL that the interpreted runs need. Up to the limit
(about two minutes of compile: the 20-step LSTM's training step) auto compiles;
beyond it, auto warns once and keeps interpreting, and ``backend="numba"`` compiles
the program when asked.

While a background compile runs, Python's thread switch interval is lowered from
5 ms to 0.5 ms (and restored after): Numba's compiler is mostly Python and holds the
GIL, so each time the interpreted run released it around a NumPy call it waited up
to 5 ms to get it back — an MLP step took 9.7 ms instead of 1.7 ms during the
compile; with 0.5 ms it takes 2.1 ms, and the compile is no slower. A compile still
running when the interpreter exits is abandoned silently (its cache writes are
atomic; the next process compiles again).
"""

import atexit
import os
import sys
import threading
import warnings

from . import get_backend, register_backend
from .base import Backend

#: the thread switch interval while a background compile runs (see the docstring)
COMPILING_SWITCH_INTERVAL = 0.0005

_switching = {"compiles": 0, "saved": None}
_switching_lock = threading.Lock()
_exiting = []


@atexit.register
def _interpreter_exits():
    _exiting.append(True)


def _compile_started():
    with _switching_lock:
        if _switching["compiles"] == 0:
            _switching["saved"] = sys.getswitchinterval()
            sys.setswitchinterval(min(_switching["saved"], COMPILING_SWITCH_INTERVAL))
        _switching["compiles"] += 1


def _compile_ended():
    with _switching_lock:
        _switching["compiles"] -= 1
        if _switching["compiles"] == 0:
            sys.setswitchinterval(_switching["saved"])


class _TooLarge(Exception):
    """A program auto leaves to the interpreter because compiling it would take long."""


class AutoBackend(Backend):
    """Reference first; the numba backend in the background once a program repeats."""

    name = "auto"

    def __init__(self, compile_after=None, compiled="numba", max_source=None):
        if compile_after is None:
            compile_after = int(os.environ.get("GRAPHDL_AUTO_COMPILE_AFTER", "2"))
        if max_source is None:
            max_source = int(os.environ.get("GRAPHDL_AUTO_MAX_SOURCE", "250000"))
        self.compile_after = compile_after
        self.compiled = compiled
        self.max_source = max_source

    def compile(self, program):
        return AutoProgram(program, get_backend("numpy").compile(program), self)


class AutoProgram:
    """A program that switches from the interpreter to native code when it is ready."""

    def __init__(self, program, interpreted, backend):
        self.program = program
        self.interpreted = interpreted
        self.backend = backend
        self.runs = 0
        self.native = None        # the compiled program, once usable
        self.error = None         # why it could not be compiled
        self._thread = None

    #: whether the run that just returned made the owned-results guarantee (backends/
    #: base.py): the native program does, the interpreter leaves it to the Session
    owns_results = False

    def __call__(self, ctx, feeds):
        self.runs += 1
        if self.native is not None:
            self.owns_results = False
            values = self.native(ctx, feeds)
            self.owns_results = getattr(self.native, "owns_results", False)
            return values
        after = self.backend.compile_after
        if self._thread is None and after and self.runs >= after:
            self._thread = threading.Thread(target=self._compile, args=(ctx, feeds),
                                            name="graphdl-compile", daemon=True)
            self._thread.start()
        return self.interpreted(ctx, feeds)

    def wait(self):
        """Block until the background compile finished (tests, benchmarks)."""
        if self._thread is not None:
            self._thread.join()
        return self.native is not None

    def _compile(self, ctx, feeds):
        _compile_started()
        try:
            native = get_backend(self.backend.compiled).compile(self.program)
            size = len(getattr(native, "source", ""))
            if size > self.backend.max_source:
                raise _TooLarge(f"its generated source is {size:,} characters, over "
                                f"the {self.backend.max_source:,} auto compiles "
                                f"(GRAPHDL_AUTO_MAX_SOURCE; backend='numba' compiles "
                                f"it anyway, in minutes)")
            native.warm_up(ctx, feeds)
        except Exception as exc:  # noqa: BLE001 (reported below; interpreting goes on)
            self.error = exc
            if not (_exiting or sys.is_finalizing()):  # nobody is waiting for it any more
                warnings.warn(f"graphdl: backend 'auto' keeps interpreting a program that "
                              f"{self.backend.compiled!r} cannot compile: {exc}",
                              stacklevel=1)
            return
        finally:
            _compile_ended()
        self.native = native


register_backend("auto", AutoBackend, primary=False)

__all__ = ["AutoBackend", "AutoProgram"]
