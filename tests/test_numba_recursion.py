"""Long generated programs compile: Numba's recursive control-flow analysis gets room.

Found by running examples/lstm_long_range.py --quick on numba under pytest: its
unrolled 20-step training step (5,300 lines, 337 loop nests) failed after minutes of
compiling with ``RecursionError`` in ``numba.core.controlflow`` (``_find_topo_order``
recurses once per basic block along a path), and the backend, taking it for a broken
cache, compiled it a second time before raising it raw.
"""

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import graphdl as gd
from graphdl.backends.numba_cpu import backend as numba_backend

pytest.importorskip("numba.core.controlflow")


_CHECK = """
import sys
from numba.core import controlflow

from graphdl.backends.numba_cpu.recursion import room_to_recurse


def chain(blocks):
    cfg = controlflow.CFGraph()
    for b in range(blocks):
        cfg.add_node(b)
    for b in range(blocks - 1):
        cfg.add_edge(b, b + 1)
    cfg.set_entry_point(0)
    cfg.process()
    return cfg.topo_order()


limit = sys.getrecursionlimit()
blocks = limit + 500
try:
    chain(blocks)
    recursive = False  # Numba 0.68 walks the blocks iteratively: nothing to fail here
except RecursionError:
    recursive = True  # Numba 0.65 recurses once per block
with room_to_recurse():
    with room_to_recurse():  # nested (compiles from two threads): still room
        assert len(chain(blocks)) == blocks
    assert sys.getrecursionlimit() > limit
assert sys.getrecursionlimit() == limit, "not restored after the last one"
print("ok", "recursive" if recursive else "iterative")
"""


def test_numbas_block_order_needs_room_for_a_long_program():
    # a fresh interpreter, so the limit is the interpreter's own. Whether Numba's
    # analysis recurses depends on its version (0.65 does, 0.68 does not): either way
    # the long chain must pass inside room_to_recurse and the limit be restored
    env = dict(os.environ, PYTHONPATH=str(Path(__file__).resolve().parents[1]))
    proc = subprocess.run([sys.executable, "-c", _CHECK], capture_output=True, text=True,
                          env=env, timeout=300)
    assert proc.returncode == 0 and proc.stdout.startswith("ok"), proc.stdout + proc.stderr


def test_the_backend_compiles_with_room_to_recurse(tmp_path, monkeypatch):
    monkeypatch.setenv("GRAPHDL_CACHE_DIR", str(tmp_path))  # a real compile, not a load
    entered = []
    x = gd.placeholder((None, 3), "float64", name="x")
    y = gd.sum(gd.exp(x) * 2.0 + x, axis=1)
    sess = gd.Session(backend="numba")
    real = numba_backend.room_to_recurse

    def spy():
        entered.append(True)
        return real()

    monkeypatch.setattr(numba_backend, "room_to_recurse", spy)
    a = np.arange(6.0).reshape(2, 3) / 6
    np.testing.assert_allclose(sess.run(y, {x: a}), (np.exp(a) * 2 + a).sum(axis=1))
    assert entered == [True]  # the first run compiled inside it
