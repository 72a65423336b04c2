"""Op-table entries for shape ops: reshape, flatten, broadcast_to, concat, stack,
split, indexing, one_hot and stop_gradient."""

import numpy as np

import graphdl as gd

from . import OpInfo


def _normal(*shapes):
    """A samples function: one sample per shape (each sample is a single input)."""
    return lambda rng: [(rng.standard_normal(s),) for s in shapes]


def _normal_groups(*groups):
    """A samples function: one sample per group of shapes (several inputs each)."""
    return lambda rng: [tuple(rng.standard_normal(s) for s in group) for group in groups]


OPS = [
    # -- reshape / flatten
    OpInfo("reshape[-1,20]", lambda x: gd.reshape(x, (-1, 20)),
           lambda x: np.reshape(x, (-1, 20)), _normal((3, 4, 5), (1, 4, 5))),
    OpInfo("reshape[5,-1,2]", lambda x: gd.reshape(x, [5, -1, 2]),
           lambda x: np.reshape(x, (5, -1, 2)), _normal((3, 4, 5), (1, 2, 5))),
    OpInfo("reshape[static]", lambda x: gd.reshape(x, (7, 3)),
           lambda x: x.reshape(7, 3), _normal((3, 7), (21,), (1, 3, 7))),
    OpInfo("reshape[to_vector]", lambda x: gd.reshape(x, -1),
           lambda x: x.ravel(), _normal((3, 5), (1, 1))),
    OpInfo("reshape_twice", lambda x: gd.reshape(gd.reshape(x, (-1,)) * 2.0, (5, -1)),
           lambda x: (x.ravel() * 2.0).reshape(5, -1), _normal((3, 5), (1, 5))),
    OpInfo("flatten", gd.flatten, lambda x: x.reshape(x.shape[0], -1),
           _normal((3, 4, 5), (1, 7), (2, 3, 1, 2), (5,))),
    # -- broadcast_to
    OpInfo("broadcast_to[2,3,4]", lambda x: gd.broadcast_to(x, (2, 3, 4)),
           lambda x: np.broadcast_to(x, (2, 3, 4)), _normal((3, 1), (1, 4), (4,), (2, 1, 4))),
    OpInfo("broadcast_to[scalar]", lambda x: gd.broadcast_to(gd.sum(x), (3, 2)),
           lambda x: np.full((3, 2), np.sum(x)), _normal((3,), (1,))),
    # -- concat
    OpInfo("concat[axis=1]", lambda a, b: gd.concat([a, b], axis=1),
           lambda a, b: np.concatenate([a, b], axis=1),
           _normal_groups([(2, 3, 4), (2, 5, 4)], [(1, 1, 3), (1, 2, 3)])),
    OpInfo("concat[axis=0]", lambda a, b, c: gd.concat([a, b, c]),
           lambda a, b, c: np.concatenate([a, b, c], axis=0),
           _normal_groups([(3, 4), (2, 4), (1, 4)], [(1, 3), (1, 3), (2, 3)])),
    OpInfo("concat[axis=-1]", lambda a, b: gd.concat([a * b, b], axis=-1),
           lambda a, b: np.concatenate([a * b, b], axis=2),
           _normal_groups([(3, 2, 5), (3, 2, 5)], [(1, 3, 1), (1, 3, 1)])),
    # -- stack
    OpInfo("stack[axis=0]", lambda a, b: gd.stack([a, b]),
           lambda a, b: np.stack([a, b]), _normal_groups([(3, 4), (3, 4)], [(1, 5), (1, 5)])),
    OpInfo("stack[axis=-1]", lambda a, b, c: gd.stack([a, b * c, c], axis=-1),
           lambda a, b, c: np.stack([a, b * c, c], axis=2),
           _normal_groups([(3, 5)] * 3, [(1, 2)] * 3)),
    OpInfo("stack[axis=1]", lambda a, b: gd.stack([a, b], axis=1),
           lambda a, b: np.stack([a, b], axis=1),
           _normal_groups([(2, 3, 4), (2, 3, 4)], [(1, 1, 3), (1, 1, 3)])),
    # -- split (single-output builders; unused parts exercise the zero fill)
    OpInfo("split[3,axis=1]",
           lambda x: gd.split(x, 3, axis=1)[1] * 2.0 + gd.split(x, 3, axis=1)[2],
           lambda x: 2.0 * x[:, x.shape[1] // 3:2 * x.shape[1] // 3]
           + x[:, 2 * x.shape[1] // 3:],
           _normal((2, 6, 5), (1, 3, 7))),
    OpInfo("split[sizes,axis=-1]",
           lambda x: gd.split(x, [1, 3, 2], axis=-1)[1] * gd.split(x, [1, 3, 2], axis=-1)[0],
           lambda x: x[..., 1:4] * x[..., 0:1], _normal((3, 6), (1, 4, 6))),
    OpInfo("split[axis=0]", lambda x: gd.concat(gd.split(x, [2, 1], axis=0)[::-1]),
           lambda x: np.concatenate([x[2:], x[:2]]), _normal((3, 4), (3, 1, 2))),
    # -- indexing
    OpInfo("getitem[1:3]", lambda x: x[1:3], lambda x: x[1:3], _normal((4, 3), (5, 2, 3))),
    OpInfo("getitem[:,i]", lambda x: x[:, 2], lambda x: x[:, 2], _normal((3, 4), (1, 3, 2))),
    OpInfo("getitem[...,-1]", lambda x: x[..., -1], lambda x: x[..., -1],
           _normal((3, 4, 5), (1, 7))),
    OpInfo("getitem[::-1]", lambda x: x[::-1], lambda x: x[::-1], _normal((3, 4), (1, 5))),
    OpInfo("getitem[mixed]", lambda x: x[-1, None, 3:0:-2, ..., 1::2],
           lambda x: x[-1, None, 3:0:-2, ..., 1::2], _normal((2, 5, 3, 4), (1, 4, 2, 5))),
    OpInfo("getitem[int_int]", lambda x: x[0, -2] * x[:, 1:2], lambda x: x[0, -2] * x[:, 1:2],
           _normal((3, 4), (1, 3))),
    OpInfo("getitem[newaxis]", lambda x: x[:, None] * x[None], lambda x: x[:, None] * x[None],
           _normal((3,), (1,))),
    OpInfo("getitem[overlap]", lambda x: x[1:] * x[:-1] + gd.sum(x[::2]),
           lambda x: x[1:] * x[:-1] + x[::2].sum(), _normal((5, 2), (3,))),
    # -- one_hot (integer indices: no gradient w.r.t. them)
    OpInfo("one_hot", lambda i: gd.one_hot(i, 5),
           lambda i: (i[..., None] == np.arange(5)).astype(np.float32),
           lambda rng: [(rng.integers(0, 5, (3,)),), (rng.integers(0, 5, (1, 4)),),
                        (np.array([0, 4, 5, -1]),)], grad=False),
    OpInfo("one_hot_pick", lambda x, i: gd.sum(x * gd.one_hot(i, 4, dtype=x.dtype), -1),
           lambda x, i: np.take_along_axis(x, i[:, None], axis=1)[:, 0],
           lambda rng: [(rng.standard_normal((3, 4)), np.array([3, 0, 1])),
                        (rng.standard_normal((1, 4)), np.array([2]))]),
    # -- stop_gradient (forward identity; its gradient is tested in test_shape_errors)
    OpInfo("stop_gradient", lambda x: x * gd.stop_gradient(x), lambda x: x * x,
           _normal((3, 4), (1,)), grad=False),
]
