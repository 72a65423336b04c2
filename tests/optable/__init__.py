"""The op table: one OpInfo per op drives the generic tests in test_op_table.py.

Adding an op = adding one ``OpInfo`` to the family module here. Each entry
gives a graph builder, an independent NumPy formula (written here, not taken
from graphdl) and sample inputs covering broadcasting, batch size 1 and odd,
non-square sizes. Samples are float64; inputs are kept off kinks (relu at 0,
pooling ties, |x| at 0) so finite differences are meaningful.
"""

from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np


@dataclass
class OpInfo:
    """How to build, compute and sample one op."""

    name: str
    build: Callable  # (*tensors) -> Tensor; builds the op on placeholders
    reference: Callable  # (*arrays) -> ndarray; plain NumPy, independent of graphdl
    samples: Callable  # (rng) -> list of tuples of input arrays
    grad: bool = True  # first-order gradient check
    second_order: bool = True  # second-order check (smooth ops)
    float32: bool = True  # also compare the forward pass in float32
    rtol: float = 1e-6
    atol: float = 1e-9
    tags: tuple = field(default_factory=tuple)

    def __repr__(self):
        return self.name


def off_zero(rng, shape, low=0.2, high=1.5):
    """Random values with |x| in [low, high] and random sign: away from kinks at 0."""
    return rng.uniform(low, high, shape) * rng.choice([-1.0, 1.0], size=shape)


def positive(rng, shape, low=0.3, high=2.0):
    return rng.uniform(low, high, shape)


def distinct(rng, shape, gap=0.05):
    """Values whose pairwise gaps are at least ``gap``: no ties for max/pooling."""
    n = int(np.prod(shape))
    vals = (np.arange(n) * gap + rng.uniform(0, gap / 4, n)) * 2 / max(n * gap, 1) - 1
    return rng.permutation(vals).reshape(shape)


def all_opinfos():
    """Every OpInfo of every op family, in family order."""
    from . import array, conv, elementwise, linalg, nn, reduction, shape  # noqa: PLC0415
    return [info for fam in (elementwise, linalg, reduction, shape, array, nn, conv)
            for info in fam.OPS]
