"""Op-table entries for run-time shapes, filled arrays, zeros_like/ones_like and gather."""

import numpy as np

import graphdl as gd

from . import OpInfo


def _float(t):
    return gd.cast(t, "float64")


def _gather_samples(axis_size, index_shapes):
    def samples(rng):
        out = []
        for params_shape, idx_shape in index_shapes:
            idx = rng.integers(-axis_size, axis_size, idx_shape)
            idx.flat[0] = idx.flat[-1]  # a repeated index: gradients must accumulate
            out.append((rng.standard_normal(params_shape), idx))
        return out
    return samples


OPS = [
    # the run-time shape: with an unknown batch dim the fed size comes out
    OpInfo("shape", lambda x: _float(gd.shape(x)), lambda x: np.array(x.shape, float),
           lambda r: [(r.standard_normal((3, 4)),), (r.standard_normal((1, 2, 5)),)],
           grad=False),
    OpInfo("fill[run-time batch]", lambda x: gd.fill((gd.shape(x)[0], 3), 2.5, x.dtype),
           lambda x: np.full((x.shape[0], 3), 2.5),
           lambda r: [(r.standard_normal((4, 2)),), (r.standard_normal((1, 2)),)],
           grad=False),
    OpInfo("fill[shape tensor]", lambda x: gd.ones(gd.shape(x), x.dtype) + x,
           lambda x: 1.0 + x, lambda r: [(r.standard_normal((2, 3)),)]),
    OpInfo("fill[static]", lambda x: gd.zeros((2, 3), x.dtype) + x,
           lambda x: x + np.zeros((2, 3)), lambda r: [(r.standard_normal((1, 3)),)]),
    # zeros_like/ones_like read x's shape only: the gradient is that of "+ x" alone
    OpInfo("zeros_like", lambda x: gd.zeros_like(x) + x * x, lambda x: x * x,
           lambda r: [(r.standard_normal((3, 4)),), (r.standard_normal((1, 2)),)]),
    OpInfo("ones_like", lambda x: gd.ones_like(x) * 3.0 - x, lambda x: 3.0 - x,
           lambda r: [(r.standard_normal((2, 5)),)]),
    OpInfo("gather[axis=0]", lambda p, i: gd.gather(p, i) ** 2,
           lambda p, i: np.take(p, i, axis=0) ** 2,
           _gather_samples(5, [((5, 3), (4,)), ((5,), (2, 3))])),
    OpInfo("gather[axis=1]", lambda p, i: gd.gather(p, i, axis=1) * 2.0,
           lambda p, i: np.take(p, i, axis=1) * 2.0,
           _gather_samples(4, [((2, 4, 3), (3,)), ((1, 4), (5,))])),
    OpInfo("gather[embedding_lookup]", lambda p, i: gd.embedding_lookup(p, i),
           lambda p, i: p[i], _gather_samples(6, [((6, 4), (2, 3)), ((6, 2), (1,))])),
]
