"""Every test builds into a fresh default graph, so no test sees another's nodes."""

import pytest

import graphdl as gd


@pytest.fixture(autouse=True)
def fresh_graph():
    with gd.Graph().as_default() as g:
        yield g
