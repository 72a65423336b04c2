"""The Numba CUDA backend: ``Session(backend="cuda")`` (alias ``"numba_cuda"``).

Importing this package registers the backend and imports nothing from
``numba.cuda``; building a Session checks for a GPU (or the simulator) and says
how to get one when there is none. See docs/cuda.md.
"""

from .. import register_backend
from .device import is_usable


def _factory():
    from .backend import CudaBackend  # noqa: PLC0415
    return CudaBackend()


register_backend("cuda", _factory, aliases=("numba_cuda",), usable=is_usable)
