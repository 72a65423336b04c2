"""Room for Numba's recursive analyses of a long generated program.

Numba's control-flow analysis (``numba.core.controlflow``'s depth-first search)
recurses once per basic block along a path, so a long generated function needs a
Python recursion depth near its number of blocks: the unrolled 20-step LSTM training
step of examples/lstm_long_range.py (5,300 lines, 337 loop nests) raised
``RecursionError`` under pytest after minutes of compiling, with Python's default
limit of 1000 frames. The limit is raised while a program compiles and restored
after the last compile in flight ends (the "auto" backend compiles in a thread).
"""

import contextlib
import sys
import threading

#: frames allowed while compiling; these recursions are pure Python (no C stack per frame)
COMPILE_RECURSION_LIMIT = 50_000

_lock = threading.Lock()
_state = {"active": 0, "saved": None}


@contextlib.contextmanager
def room_to_recurse(limit=COMPILE_RECURSION_LIMIT):
    """Raise ``sys.getrecursionlimit()`` to at least ``limit`` inside the block."""
    with _lock:
        if _state["active"] == 0:
            _state["saved"] = sys.getrecursionlimit()
            sys.setrecursionlimit(max(limit, _state["saved"]))
        _state["active"] += 1
    try:
        yield
    finally:
        with _lock:
            _state["active"] -= 1
            if _state["active"] == 0:
                sys.setrecursionlimit(_state["saved"])
