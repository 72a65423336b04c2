"""Every test builds into a fresh default graph, so no test sees another's nodes.

Tests that take the ``backend`` fixture run once per registered backend (or per
name in ``GRAPHDL_TEST_BACKENDS=numpy,numba``): rules that hold for execution are
written once and hold on every backend.
"""

import os

import pytest

import graphdl as gd
from graphdl.backends import available_backends


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
