"""Op-table entries for reductions, and expand_dims / squeeze (same module)."""

import numpy as np

import graphdl as gd

from . import OpInfo, distinct


def _samples(rng):
    return [(rng.standard_normal((3, 4, 5)),), (rng.standard_normal((1, 7)),)]


def _distinct(rng):
    return [(distinct(rng, (3, 4, 5)),), (distinct(rng, (1, 7)),)]


OPS = []
for _axis in (None, 0, -1, (0, 1)):
    for _keep in (False, True):
        suffix = f"axis={_axis},keepdims={_keep}"
        OPS += [
            OpInfo(f"sum[{suffix}]", lambda x, a=_axis, k=_keep: gd.sum(x, a, k),
                   lambda x, a=_axis, k=_keep: np.sum(x, axis=a, keepdims=k), _samples),
            OpInfo(f"mean[{suffix}]", lambda x, a=_axis, k=_keep: gd.mean(x, a, k),
                   lambda x, a=_axis, k=_keep: np.mean(x, axis=a, keepdims=k), _samples),
            OpInfo(f"max[{suffix}]", lambda x, a=_axis, k=_keep: gd.max(x, a, k),
                   lambda x, a=_axis, k=_keep: np.max(x, axis=a, keepdims=k), _distinct,
                   second_order=False),
        ]
OPS += [
    OpInfo("min", lambda x: gd.min(x, 1), lambda x: np.min(x, axis=1), _distinct,
           second_order=False),
    OpInfo("argmax", lambda x: gd.cast(gd.argmax(x, -1), x.dtype),
           lambda x: np.argmax(x, -1) * 1.0, _distinct, grad=False),
    OpInfo("argmin", lambda x: gd.cast(gd.argmin(x, 0), x.dtype),
           lambda x: np.argmin(x, 0) * 1.0, _distinct, grad=False),
]

OPS += [
    OpInfo("expand_dims[axis=1]", lambda x: gd.expand_dims(x, 1),
           lambda x: x.reshape(x.shape[:1] + (1,) + x.shape[1:]), _samples),
    OpInfo("expand_dims[axis=(0,-1)]",
           lambda x: gd.expand_dims(x, (0, -1)) * gd.expand_dims(x, -1),
           lambda x: x.reshape((1,) + x.shape + (1,)) * x[..., None],
           lambda r: [(r.standard_normal((3, 5)),), (r.standard_normal((1, 4)),)]),
    OpInfo("squeeze[axis=1]", lambda x: gd.squeeze(x, 1),
           lambda x: x.reshape(x.shape[:1] + x.shape[2:]),
           lambda r: [(r.standard_normal((3, 1, 4)),), (r.standard_normal((1, 1, 5)),)]),
    OpInfo("squeeze[axis=-1]", lambda x: gd.squeeze(x * x, -1),
           lambda x: (x * x).reshape(x.shape[:-1]),
           lambda r: [(r.standard_normal((2, 3, 1)),), (r.standard_normal((1, 1)),)]),
    # all size-1 axes: the batch-1 sample loses its batch axis too (not the first sample,
    # which the unknown-batch test uses: an unknown dim is never squeezed)
    OpInfo("squeeze[all]", gd.squeeze,
           lambda x: x.reshape([d for d in x.shape if d != 1]),
           lambda r: [(r.standard_normal((3, 1, 4, 1)),), (r.standard_normal((1, 5, 1)),)]),
]
