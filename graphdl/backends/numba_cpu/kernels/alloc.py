"""Array allocation for generated programs: ``empty``, ``zeros``, ``full``.

Same calls as NumPy's (``empty((n, 128), np.float32)``), but Numba intrinsics: they
are typed by a Python function and lowered straight into the calling program, where
``np.empty``/``np.zeros``/``np.full`` are Numba ``@overload``s, each compiled as a
separate function (typing, lowering, LLVM, a Python wrapper) for every distinct
(shape tuple type, dtype) of a program — 0.05-0.25 s each, 14 of them (≈ 1.7 s) in
the cold compile of the MLP training step. The arrays are the ones ``np.empty``
makes inside Numba (the same runtime allocation, C order, the same "negative
dimensions not allowed" error).

These use Numba's internal lowering helpers (``numba.np.arrayobj``); where a Numba
version lacks them, plain ``njit`` functions calling NumPy take their place.
"""

import numpy as np
from numba import njit

try:
    from numba.core import cgutils, types
    from numba.core.typing.npydecl import parse_dtype, parse_shape
    from numba.extending import intrinsic
    from numba.np.arrayobj import _empty_nd_impl, _parse_shape
except ImportError:  # pragma: no cover (another Numba layout: the slower overloads)
    intrinsic = None


def _array_type(shape, dtype):
    nb_dtype, ndim = parse_dtype(dtype), parse_shape(shape)
    if nb_dtype is None or ndim is None:
        return None
    return types.Array(nb_dtype, ndim, "C")


def _allocate(context, builder, sig, args):
    arrtype = sig.return_type
    shapes = _parse_shape(context, builder, sig.args[0], args[0])
    return _empty_nd_impl(context, builder, arrtype, shapes)


if intrinsic is not None:
    @intrinsic
    def empty(typingctx, shape, dtype):
        """``np.empty(shape, dtype)``, lowered inline."""
        arrtype = _array_type(shape, dtype)
        if arrtype is None:
            return None

        def codegen(context, builder, sig, args):
            return _allocate(context, builder, sig, args)._getvalue()
        return arrtype(shape, dtype), codegen

    @intrinsic
    def zeros(typingctx, shape, dtype):
        """``np.zeros(shape, dtype)``, lowered inline (one memset)."""
        arrtype = _array_type(shape, dtype)
        if arrtype is None:
            return None

        def codegen(context, builder, sig, args):
            ary = _allocate(context, builder, sig, args)
            cgutils.memset(builder, ary.data, builder.mul(ary.itemsize, ary.nitems), 0)
            return ary._getvalue()
        return arrtype(shape, dtype), codegen

    @intrinsic
    def full(typingctx, shape, value, dtype):
        """``np.full(shape, value, dtype)``, lowered inline (``value`` converted to
        ``dtype`` as a store into such an array converts it)."""
        arrtype = _array_type(shape, dtype)
        if arrtype is None or not isinstance(value, (types.Number, types.Boolean)):
            return None

        def codegen(context, builder, sig, args):
            ary = _allocate(context, builder, sig, (args[0], args[2]))
            item = context.cast(builder, args[1], sig.args[1], arrtype.dtype)
            with cgutils.for_range(builder, ary.nitems) as loop:
                ptr = builder.gep(ary.data, [loop.index])
                context.pack_value(builder, arrtype.dtype, item, ptr)
            return ary._getvalue()
        return arrtype(shape, value, dtype), codegen
else:  # pragma: no cover
    @njit(inline="always")
    def empty(shape, dtype):
        return np.empty(shape, dtype)

    @njit(inline="always")
    def zeros(shape, dtype):
        return np.zeros(shape, dtype)

    @njit(inline="always")
    def full(shape, value, dtype):
        return np.full(shape, value, dtype)


__all__ = ["empty", "full", "zeros"]
