"""Sources and state. ``graphdl.passes.lower`` turns placeholders and variable reads
into parameters of the program, assignments into pure ops plus ``updates`` (which
the backend commits after the native call returned) and drops groups; constants
become literals or arguments in :func:`~..codegen.generate`. None of them reaches a
rule, but they are registered, so "numba supports op Y" stays "Y has a key"."""

from ....ops.sources import CONSTANT, PLACEHOLDER, VARIABLE
from ....ops.state import ASSIGN, ASSIGN_ADD, ASSIGN_SUB, GROUP
from ...lowering import LoweringError
from . import CPU


@CPU.register(PLACEHOLDER, VARIABLE, CONSTANT, ASSIGN, ASSIGN_ADD, ASSIGN_SUB, GROUP)
def lowered_before_codegen(ctx, lop):
    raise LoweringError(f"internal: op {lop.op.name!r} should have been turned into a "
                        "parameter or pure ops by graphdl.passes.lower")
