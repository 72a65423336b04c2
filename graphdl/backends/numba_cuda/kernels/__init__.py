"""CUDA library kernels, one module per op family (mirroring graphdl/ops/).

Dtype-generic modules (``check``, ``copy``, ``conv``, ``labels``, ``random``) are imported
as they are; modules with typed shared memory (``reduction``, ``linalg``,
``nn``) are rendered per dtype by :func:`typed` from their source file.
"""

from functools import cache
from pathlib import Path

from . import array, check, common, conv, copy, labels, random  # noqa: F401

_DIR = Path(__file__).resolve().parent
TYPED = ("reduction", "linalg", "nn")


@cache
def typed(module, dtype):
    """Module ``module`` (one of TYPED) rendered for ``dtype`` (a NumPy dtype name)."""
    from ..codegen import typed_library  # noqa: PLC0415
    return typed_library(_DIR / f"{module}.py", _NUMBA_NAMES.get(dtype, dtype))


_NUMBA_NAMES = {"bool": "boolean"}
