"""Every test builds into a fresh default graph, so no test sees another's nodes.

Tests that take the ``backend`` fixture run once per registered backend (or per
name in ``GRAPHDL_TEST_BACKENDS=numpy,numba``): rules that hold for execution are
written once and hold on every backend.
"""

import os
from pathlib import Path

import pytest

# Compiled backends cache generated programs on disk; one directory for the whole test
# run (and the next ones: compiles are the suite's main cost), unless one is chosen.
os.environ.setdefault("GRAPHDL_CACHE_DIR",
                      str(Path(__file__).resolve().parent.parent / ".pytest_cache" / "graphdl"))

# Tests over "every backend" (the ``backend`` fixture, the fuzzer) run on the reference
# only unless GRAPHDL_TEST_BACKENDS names more: Numba compiles make the compiled
# backends' share of the suite take far longer than the 10 minutes `make test` may
# (a 2-core machine; an unrolled LSTM step is one 200 KB program). `make test-compiled`
# runs the whole suite on numpy and numba; tests/test_numba_*.py and the op table on
# every compiled backend (test_op_table.py::test_backend_matches_reference) always run.
os.environ.setdefault("GRAPHDL_TEST_BACKENDS", "numpy")

# Sessions without a backend argument interpret here (the default, "auto", would compile
# repeated programs in the background and compete with the suite for the cores); the
# backends are chosen explicitly through the ``backend`` fixture.
os.environ.setdefault("GRAPHDL_BACKEND", "numpy")

import graphdl as gd  # noqa: E402
from graphdl.backends import available_backends  # noqa: E402


def _test_backends():
    chosen = os.environ.get("GRAPHDL_TEST_BACKENDS", "")
    return [b for b in chosen.split(",") if b] or available_backends()


@pytest.fixture(params=_test_backends())
def backend(request):
    """The name of a backend to run on; ``gd.Session(backend=backend)``."""
    return request.param


@pytest.fixture(autouse=True)
def fresh_graph():
    with gd.Graph().as_default() as g:
        yield g
