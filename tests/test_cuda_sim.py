"""Runs tests/cuda_sim in a separate process on Numba's CUDA simulator.

NUMBA_ENABLE_CUDASIM must be set before numba is imported, so the simulated
tests cannot share this process. Shapes there are tiny: the simulator starts
one OS thread per CUDA thread.
"""

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from graphdl.backends import available_backends

ROOT = Path(__file__).resolve().parent.parent
SHARED_SUITES = ["tests/test_state.py", "tests/test_stability.py", "tests/test_silent_errors.py",
                 "tests/test_clear_errors.py", "tests/test_numerics.py"]


def test_cuda_backend_on_the_simulator():
    pytest.importorskip("numba.cuda")
    # tests/cuda_sim, and the shared reliability suites held on cuda: state rules,
    # numerical stability, silent and clear errors, check_numerics (test_fuzz is left
    # out: a minute on the simulator; run it by hand with the same environment)
    env = dict(os.environ, NUMBA_ENABLE_CUDASIM="1", GRAPHDL_TEST_BACKENDS="cuda")
    env["PYTHONPATH"] = os.pathsep.join([str(ROOT), env.get("PYTHONPATH", "")])
    proc = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider",
                           "tests/cuda_sim", *SHARED_SUITES], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=1200)
    assert proc.returncode == 0, proc.stdout[-6000:] + proc.stderr[-3000:]
    passed = re.search(r"(\d+) passed", proc.stdout)
    assert passed and int(passed.group(1)) >= 170, proc.stdout[-2000:]


def test_no_gpu_gives_a_clear_error(monkeypatch):
    """Without a GPU (this machine) the backend is left out of available_backends()
    and building a Session says why and how to use the simulator."""
    from graphdl.backends.numba_cuda import device  # noqa: PLC0415
    monkeypatch.setattr(device, "why_unavailable",
                        lambda: f"no CUDA device was found; {device.SIMULATOR_HINT}")
    import graphdl as gd  # noqa: PLC0415
    assert "cuda" not in available_backends()
    with pytest.raises(device.CudaUnavailableError,
                       match="no CUDA device was found.*NUMBA_ENABLE_CUDASIM=1"):
        gd.Session(backend="cuda")
    with pytest.raises(device.CudaUnavailableError):
        gd.Session(backend="numba_cuda")
