"""Python operators on Tensor, mapped to the ops that define them."""

from ..graph import Tensor
from . import elementwise as ew
from .linalg import matmul, transpose


def _binary(fn, reflected=False):
    if reflected:
        return lambda self, other: fn(other, self)
    return lambda self, other: fn(self, other)


def _getitem(self, key):
    from .shape import getitem  # noqa: PLC0415 (lazy: avoids an import cycle)
    return getitem(self, key)


Tensor.__add__ = _binary(ew.add)
Tensor.__radd__ = _binary(ew.add, reflected=True)
Tensor.__sub__ = _binary(ew.subtract)
Tensor.__rsub__ = _binary(ew.subtract, reflected=True)
Tensor.__mul__ = _binary(ew.multiply)
Tensor.__rmul__ = _binary(ew.multiply, reflected=True)
Tensor.__truediv__ = _binary(ew.divide)
Tensor.__rtruediv__ = _binary(ew.divide, reflected=True)
Tensor.__pow__ = _binary(ew.power)
Tensor.__rpow__ = _binary(ew.power, reflected=True)
Tensor.__matmul__ = _binary(matmul)
Tensor.__rmatmul__ = _binary(matmul, reflected=True)
Tensor.__neg__ = lambda self: ew.negative(self)
Tensor.__pos__ = lambda self: self
Tensor.__abs__ = lambda self: ew.abs(self)
Tensor.__lt__ = _binary(ew.less)
Tensor.__le__ = _binary(ew.less_equal)
Tensor.__gt__ = _binary(ew.greater)
Tensor.__ge__ = _binary(ew.greater_equal)
Tensor.__getitem__ = _getitem
Tensor.T = property(lambda self: transpose(self), doc="The axes reversed (``gd.transpose``).")
