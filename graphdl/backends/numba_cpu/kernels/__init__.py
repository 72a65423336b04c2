"""The CPU lowering table (one module per op family registers its rules) and the
library kernels that generated code calls (:mod:`.conv`: convolution and pooling,
:mod:`.blas`: gemm; compiled once per dtype, shared by every program and called by
address, see :mod:`.library`).

A rule is ``rule(ctx, lop)``: it writes the code computing ``lop``'s outputs into
the generated program through ``ctx`` (:class:`~..codegen.Context`). Elementwise ops
need no rule of their own: every op with a scalar rule (``OpDef.scalar``) is lowered
as one loop by :func:`.elementwise.lower_elementwise`, including ops defined after
this module was imported (:func:`table` registers them when asked).
"""

from ...lowering import LoweringTable

CPU = LoweringTable("numba")


def table():
    """The CPU table, with every elementwise op registered so far."""
    from . import conv_rules, elementwise, linalg, nn, reduction, shape, state  # noqa: F401,PLC0415
    elementwise.register_scalar_ops()
    return CPU
