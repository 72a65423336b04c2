"""The whole op table and every gradient on a real GPU at realistic shapes
(batch 128, convolutions on 28x28), equal to the reference backend.

Run with ``make test-gpu`` on a machine with an NVIDIA GPU (GRAPHDL_TEST_GPU=1);
skipped everywhere else. ``GRAPHDL_TEST_GPU=sim`` with NUMBA_ENABLE_CUDASIM=1 runs
the same machinery on the simulator at batch 4 and 6x6 images (a smoke test).
The samples are the op table's own, with the first dimension of every input
scaled up to 128 (images to 28x28) where the op allows.
"""

import os

import numpy as np
import pytest

import graphdl as gd

from .optable import all_opinfos

if not os.environ.get("GRAPHDL_TEST_GPU"):
    pytest.skip("GPU tests: run `make test-gpu` on a machine with a GPU",
                allow_module_level=True)

from graphdl.backends.numba_cuda.device import why_unavailable  # noqa: E402

SMOKE = os.environ["GRAPHDL_TEST_GPU"] == "sim"
if why_unavailable() is not None or (
        os.environ.get("NUMBA_ENABLE_CUDASIM", "0") != "0") != SMOKE:
    pytest.skip(f"no GPU: {why_unavailable()}", allow_module_level=True)

OPINFOS = all_opinfos()
BATCH, SIDE = (4, 6) if SMOKE else (128, 28)


def _grow(arrays, rng):
    """Inputs with batch 128 (and 28x28 images), same dtype and value ranges:
    each array is tiled up along axis 0 (and its image axes), then jittered a little
    so rows differ; ops whose inputs must agree are tried, and the original samples
    are used when the grown ones do not build."""
    grown = []
    for a in arrays:
        if a.ndim == 0:
            grown.append(a)
            continue
        reps = [max(1, -(-BATCH // a.shape[0]))] + [1] * (a.ndim - 1)
        if a.ndim == 4:
            reps[2] = max(1, -(-SIDE // a.shape[2]))
            reps[3] = max(1, -(-SIDE // a.shape[3]))
        b = np.tile(a, reps)[:BATCH]
        if b.dtype.kind == "f":
            b = b * (1 + 1e-3 * rng.standard_normal(b.shape))
        grown.append(b.astype(a.dtype))
    return grown


def _run(info, arrays, backend):
    g = gd.Graph(seed=0)
    with g.as_default():
        phs = [gd.placeholder(a.shape, a.dtype, name=f"in{i}") for i, a in enumerate(arrays)]
        out = info.build(*phs)
        fetches = [out]
        xs = [p for p in phs if p.dtype.kind == "f"]
        if info.grad and xs:
            fetches += gd.gradients(gd.sum(out * out), xs, unconnected="zero")
    return gd.Session(g, backend=backend, seed=0).run(fetches, dict(zip(phs, arrays)))


@pytest.mark.parametrize("info", [pytest.param(i, id=i.name) for i in OPINFOS])
def test_op_and_gradients_on_the_gpu(info):
    rng = np.random.default_rng(0)
    for arrays in info.samples(rng):
        big = _grow(arrays, rng)
        try:
            want = _run(info, big, "numpy")
        except gd.GraphError:  # inputs that must agree no longer do: the table's own
            big = arrays
            want = _run(info, big, "numpy")
        got = _run(info, big, "cuda")
        for w, c in zip(want, got):
            np.testing.assert_allclose(c, w, rtol=1e-7, atol=1e-9, err_msg=info.name)
