"""Linear algebra: matmul (2-D and batched) and transpose."""

import numpy as np

from .. import dtypes as _dt
from ..errors import ShapeError
from ..shapes import broadcast_shapes
from .base import OpDef, apply, as_tensor, checked_axis, register, shape_error


class MatMul(OpDef):
    """(..., n, k) @ (..., k, m) -> (..., n, m); batch axes broadcast like NumPy."""

    name = "matmul"

    def infer(self, a, b, transpose_a=False, transpose_b=False):
        # transpose_a/_b: read that operand with its last two axes swapped; set only by
        # the simplify pass on the lowered IR (it folds transposes into the matmul)
        if transpose_a or transpose_b:
            a, b = (_Swapped(a) if transpose_a else a), (_Swapped(b) if transpose_b else b)
        if a.ndim < 2 or b.ndim < 2:
            raise shape_error("matmul", "both operands need at least 2 dimensions "
                              "(reshape vectors to (n, 1) or (1, n))", [a, b])
        k1, k2 = a.shape[-1], b.shape[-2]
        if k1 is not None and k2 is not None and k1 != k2:
            raise shape_error("matmul", f"inner dimensions differ ({k1} vs {k2})", [a, b])
        try:
            batch = broadcast_shapes(a.shape[:-2], b.shape[:-2], op="matmul")
        except ShapeError as exc:
            raise shape_error("matmul", "batch dimensions cannot be broadcast", [a, b]) \
                from exc
        return [(batch + (a.shape[-2], b.shape[-1]), _dt.result_dtype(a.dtype, b.dtype))]

    def forward(self, a, b, transpose_a=False, transpose_b=False):
        if transpose_a:
            a = np.swapaxes(a, -1, -2)
        if transpose_b:
            b = np.swapaxes(b, -1, -2)
        return np.matmul(a, b)

    def vjp(self, node, g):
        a, b = node.inputs
        return [lambda: matmul(g, swap_last(b)), lambda: matmul(swap_last(a), g)]


MATMUL = register(MatMul())


class _Swapped:
    """A tensor or Value seen with its last two axes swapped (for the shape rule)."""

    def __init__(self, t):
        self.shape = t.shape[:-2] + (t.shape[-1], t.shape[-2]) if t.ndim >= 2 else t.shape
        self.dtype, self.ndim, self.name = t.dtype, t.ndim, t.name


def matmul(a, b, name=None):
    """Matrix product ``a @ b`` (2-D, or batched over leading axes with broadcasting).

    1-D operands work as in NumPy: a vector ``a`` is a row (1, k) and a vector ``b``
    a column (k, 1) whose added axis is removed from the result (vector @ vector is
    a scalar) — built from reshapes around the matmul op.
    Gradient: ``g @ bᵀ`` for a and ``aᵀ @ g`` for b (summed over broadcast batch axes).
    """
    from .axes import squeeze  # noqa: PLC0415
    from .shape import reshape  # noqa: PLC0415
    a, b = as_tensor(a), as_tensor(b)
    if a.ndim == 0 or b.ndim == 0:
        raise shape_error("matmul", "operands must have at least one dimension (use * to "
                          "scale)", [a, b])
    if a.ndim > 1 and b.ndim > 1:
        return apply(MATMUL, [a, b], name=name)
    a2 = reshape(a, (1, -1)) if a.ndim == 1 else a
    b2 = reshape(b, (-1, 1)) if b.ndim == 1 else b
    out = apply(MATMUL, [a2, b2])
    if b.ndim == 1:
        out = squeeze(out, -1, name=name if a.ndim > 1 else None)
    if a.ndim == 1:
        out = squeeze(out, -1 if b.ndim == 1 else -2, name=name)
    return out


class Transpose(OpDef):
    """Permute axes; ``perm[i]`` is the input axis that becomes output axis i."""

    name = "transpose"

    def infer(self, x, perm):
        if sorted(perm) != list(range(x.ndim)):
            raise shape_error("transpose", f"perm {list(perm)} is not a permutation of "
                              f"the {x.ndim} axes", [x])
        return [(tuple(x.shape[p] for p in perm), x.dtype)]

    def forward(self, x, perm):
        return np.transpose(x, perm)

    def vjp(self, node, g):
        return [transpose(g, tuple(np.argsort(node.attrs["perm"]).tolist()))]


TRANSPOSE = register(Transpose())


def transpose(x, axes=None, name=None):
    """Permute axes like ``np.transpose`` (reverse them when ``axes`` is None)."""
    x = as_tensor(x)
    if axes is None:
        perm = tuple(reversed(range(x.ndim)))
    else:
        # checked before wrapping negatives, so the error shows the axes as given
        perm = tuple(checked_axis("transpose", a, x.ndim, [x]) for a in axes)
    if perm == tuple(range(x.ndim)) and axes is None:
        return x
    return apply(TRANSPOSE, [x], name=name, perm=perm)


def swap_last(x):
    """Swap the last two axes (the matrix transpose of a batch of matrices)."""
    perm = list(range(x.ndim))
    perm[-1], perm[-2] = perm[-2], perm[-1]
    return transpose(x, perm)
