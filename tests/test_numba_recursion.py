"""Long generated programs compile: Numba's recursive control-flow analysis gets room.

Found by running examples/lstm_long_range.py --quick on numba under pytest: its
unrolled 20-step training step (5,300 lines, 337 loop nests) failed after minutes of
compiling with ``RecursionError`` in ``numba.core.controlflow`` (``_find_topo_order``
recurses once per basic block along a path), and the backend, taking it for a broken
cache, compiled it a second time before raising it raw.
"""

import sys
import time

import numpy as np
import pytest

import graphdl as gd
from graphdl.backends.numba_cpu import backend as numba_backend
from graphdl.backends.numba_cpu import recursion
from graphdl.backends.numba_cpu.recursion import room_to_recurse

controlflow = pytest.importorskip("numba.core.controlflow")


def _topo_order_of_a_chain(blocks):
    cfg = controlflow.CFGraph()
    for b in range(blocks):
        cfg.add_node(b)
    for b in range(blocks - 1):
        cfg.add_edge(b, b + 1)
    cfg.set_entry_point(0)
    cfg.process()
    return cfg.topo_order()


def _wait_for_compiles_in_flight(timeout=300.0):
    # an earlier test's background compile ("auto") holds the limit raised until it
    # ends; this test needs the interpreter's own limit (found in a full-suite run)
    deadline = time.monotonic() + timeout
    while recursion._state["active"] and time.monotonic() < deadline:  # noqa: SLF001
        time.sleep(0.05)


@pytest.fixture
def default_recursion_limit():
    """The interpreter's default limit, whatever earlier tests left (Hypothesis raises
    it around its tests and leaves it when a compile changed it meanwhile)."""
    _wait_for_compiles_in_flight()
    saved = sys.getrecursionlimit()
    sys.setrecursionlimit(1000)
    yield
    sys.setrecursionlimit(saved)


def test_numbas_block_order_needs_room_for_a_long_program(default_recursion_limit):
    blocks = sys.getrecursionlimit() + 500
    with pytest.raises(RecursionError):  # the failure this module exists for
        _topo_order_of_a_chain(blocks)
    limit = sys.getrecursionlimit()
    with room_to_recurse():
        with room_to_recurse():  # nested (compiles from two threads): still room
            assert len(_topo_order_of_a_chain(blocks)) == blocks
        assert sys.getrecursionlimit() > limit
    assert sys.getrecursionlimit() == limit  # restored after the last one


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
