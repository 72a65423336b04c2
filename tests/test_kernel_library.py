"""The library kernels called by address (graphdl/backends/numba_cpu/kernels/library.py)
and their on-disk cache (kernel_cache.py): same results as the kernels themselves,
errors propagated, the cache keyed by the whole kernel library, a second process
loading what the first compiled, missing kernels compiled by a second process."""

import ast
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

numba = pytest.importorskip("numba")

from graphdl.backends.numba_cpu import kernel_cache  # noqa: E402
from graphdl.backends.numba_cpu.kernels import library  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
KERNELS = ROOT / "graphdl" / "backends" / "numba_cpu" / "kernels"


@numba.njit
def _gemm_by_address(a, b, c, alpha):
    library.gemm(a, b, c, np.bool_(False), np.bool_(True), alpha, 0.0)


@numba.njit
def _conv_by_address(x, w, out):
    library.conv2d(x, w, out, 1, 1, 0, 0)


@numba.njit
def _pool_by_address(x, out):
    library.max_pool2d(x, out, 2, 2, 2, 2, 0, 0)


def test_a_kernel_called_by_address_computes_what_the_kernel_does():
    from graphdl.backends.numba_cpu.kernels import conv  # noqa: PLC0415
    rng = np.random.default_rng(0)
    for dtype in ("float32", "float64"):
        for name in ("gemm", "conv2d", "max_pool2d"):
            library.ensure(name, dtype)
        a, b = rng.standard_normal((5, 4)).astype(dtype), rng.standard_normal((3, 4)).astype(dtype)
        c = np.empty((5, 3), dtype)
        _gemm_by_address(a, b, c, 2.0)
        np.testing.assert_allclose(c, 2.0 * a @ b.T, rtol=1e-5)
        x = rng.standard_normal((2, 3, 6, 6)).astype(dtype)
        w = rng.standard_normal((4, 3, 3, 3)).astype(dtype)
        got, want = np.empty((2, 4, 4, 4), dtype), np.empty((2, 4, 4, 4), dtype)
        _conv_by_address(x, w, got)
        conv.conv2d(x, w, want, 1, 1, 0, 0)
        np.testing.assert_array_equal(got, want)
        got, want = np.empty((2, 3, 3, 3), dtype), np.empty((2, 3, 3, 3), dtype)
        _pool_by_address(x, got)
        conv.max_pool2d(x, want, 2, 2, 2, 2, 0, 0)
        np.testing.assert_array_equal(got, want)


def test_a_kernel_error_propagates_through_the_call():
    library.ensure("conv2d", "float64")
    x, w = np.zeros((2, 3, 6, 6)), np.zeros((4, 5, 3, 3))  # 3 channels, w expects 5
    with pytest.raises(ValueError, match="conv2d kernel: inconsistent"):
        _conv_by_address(x, w, np.empty((2, 4, 4, 4)))


def test_an_argument_outside_the_signature_is_a_typing_error_naming_the_kernel():
    library.ensure("conv2d", "float64")
    with pytest.raises(numba.core.errors.TypingError, match="library kernel conv2d"):
        _conv_by_address(np.zeros((2, 3, 6, 6)), np.zeros((4, 3, 3, 3), np.float32),
                         np.empty((2, 4, 4, 4)))
    with pytest.raises(numba.core.errors.TypingError, match="library kernel conv2d"):
        _conv_by_address(np.zeros((2, 3, 6, 6)), np.zeros((4, 3, 3, 3)),
                         np.empty((2, 4, 4, 8))[..., ::2])  # not C-contiguous


def test_the_kernel_sources_cover_every_module_the_kernels_import():
    modules = {mod.rsplit(".", 1)[-1] for mod, _ in library.KERNELS.values()}
    sources = set(kernel_cache.KERNEL_SOURCES)
    todo = [f"{m}.py" for m in modules]
    seen = set()
    while todo:
        name = todo.pop()
        if name in seen:
            continue
        seen.add(name)
        assert name in sources, f"{name} ends up in a kernel: add it to KERNEL_SOURCES"
        for node in ast.walk(ast.parse((KERNELS / name).read_text())):
            if isinstance(node, ast.ImportFrom) and node.level == 1 and node.module:
                todo.append(node.module.split(".")[0] + ".py")


def test_editing_any_kernel_source_changes_the_key(tmp_path):
    for name in kernel_cache.KERNEL_SOURCES:
        shutil.copy(KERNELS / name, tmp_path / name)
    before = kernel_cache.sources_digest(tmp_path)
    assert before == kernel_cache.library_digest()
    with open(tmp_path / "alloc.py", "a") as f:  # not a kernel's own file
        f.write("\n# edited\n")
    assert kernel_cache.sources_digest(tmp_path) != before


# A fresh interpreter: what loading (and compiling) gemm's float64 variant did.
_PROBE = """
import json, os, sys
from graphdl.backends.numba_cpu import kernel_cache
if os.environ.get("PROBE_DIGEST"):  # stands for an edited kernel library
    kernel_cache.library_digest = lambda: os.environ["PROBE_DIGEST"]
from graphdl.backends.numba_cpu.kernels import blas, library
pending = library.prepare([("gemm", "float64")])
started = pending.process is not None
if started and os.environ.get("PROBE_WAIT"):  # as if this one compiled a long program
    pending.process.wait()
pending.finish()
s = blas.gemm.stats
print(json.dumps({"hits": sum(s.cache_hits.values()), "misses": sum(s.cache_misses.values()),
                  "second_process": started, "loaded": library.loaded("gemm", "float64")}))
"""


def _probe(cache, **env):
    env = dict(os.environ, NUMBA_CACHE_DIR=str(cache), PYTHONPATH=str(ROOT), **env)
    done = subprocess.run([sys.executable, "-c", _PROBE], env=env, capture_output=True,
                          text=True, timeout=300, check=False)
    assert done.returncode == 0, done.stderr[-2000:]
    return json.loads(done.stdout.strip().splitlines()[-1])


def test_a_second_process_loads_the_kernel_and_an_edited_library_recompiles(tmp_path):
    first = _probe(tmp_path, GRAPHDL_KERNEL_PROCESS="0")
    assert first == {"hits": 0, "misses": 1, "second_process": False, "loaded": True}
    second = _probe(tmp_path, GRAPHDL_KERNEL_PROCESS="0")
    assert second == {"hits": 1, "misses": 0, "second_process": False, "loaded": True}
    edited = _probe(tmp_path, GRAPHDL_KERNEL_PROCESS="0", PROBE_DIGEST="edited")
    assert edited["misses"] == 1 and edited["hits"] == 0


@pytest.mark.skipif(len(os.sched_getaffinity(0)) < 2, reason="one CPU: compiled in-process")
def test_missing_kernels_are_compiled_by_a_second_process(tmp_path):
    got = _probe(tmp_path, GRAPHDL_KERNEL_PROCESS="1", PROBE_WAIT="1")
    # the second process compiled it into the cache; this one only loaded it
    assert got == {"hits": 1, "misses": 0, "second_process": True, "loaded": True}


@pytest.mark.skipif(len(os.sched_getaffinity(0)) < 2, reason="one CPU: compiled in-process")
def test_this_process_compiles_what_the_second_one_has_not_started(tmp_path):
    got = _probe(tmp_path, GRAPHDL_KERNEL_PROCESS="1")  # finishes at once: no program
    # whoever claimed it compiled it, once: loaded from the cache or compiled here
    assert got["second_process"] and got["loaded"] and got["hits"] + got["misses"] == 1


def test_claims_give_each_variant_to_one_process(tmp_path):
    assert library._claim(str(tmp_path), "conv2d", "float32")  # noqa: SLF001
    assert not library._claim(str(tmp_path), "conv2d", "float32")  # noqa: SLF001
    assert library._claim(str(tmp_path), "conv2d", "float64")  # noqa: SLF001


def test_an_unloaded_kernel_raises_instead_of_crashing():
    code = ("import numpy as np, numba\n"
            "from graphdl.backends.numba_cpu.kernels import library\n"
            "@numba.njit\n"
            "def f(x, out):\n"
            "    library.avg_pool2d(x, out, 2, 2, 2, 2, 0, 0)\n"
            "try:\n"
            "    f(np.zeros((1, 1, 4, 4)), np.empty((1, 1, 2, 2)))\n"
            "except RuntimeError as e:\n"
            "    print('raised:', e)\n")
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    done = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True,
                          text=True, timeout=300, check=False)
    assert "raised: graphdl: library kernel avg_pool2d (float64) was not loaded" in done.stdout, \
        done.stderr[-2000:]
