"""Op-table entries for reductions."""

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
