"""Tests that run the cuda backend on Numba's CUDA simulator.

They only run in a process started with NUMBA_ENABLE_CUDASIM=1 (set before
numba is imported): tests/test_cuda_sim.py starts one. Collected in a normal
run, they skip.
"""

import os

import pytest

SIM = os.environ.get("NUMBA_ENABLE_CUDASIM", "0") not in ("", "0")


def pytest_collection_modifyitems(config, items):
    if SIM:
        return
    skip = pytest.mark.skip(reason="needs NUMBA_ENABLE_CUDASIM=1 (run by tests/test_cuda_sim.py)")
    for item in items:
        if "cuda_sim" in str(item.fspath):
            item.add_marker(skip)


def pytest_configure(config):
    # the simulator runs kernels on NumPy scalars: the hash's wrapping uint64
    # multiplies (intended, as on a GPU) warn there
    config.addinivalue_line("filterwarnings",
                            "ignore:overflow encountered in scalar:RuntimeWarning")
