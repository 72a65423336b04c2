"""graphdl: a define-and-run deep-learning engine with a compiler backend.

    import graphdl as gd
    x = gd.placeholder((None, 2))
    W = gd.Variable(gd.initializers.glorot_uniform((2, 1)))
    y = gd.sigmoid(x @ W)
    with gd.Session() as sess:
        print(sess.run(y, {x: [[0, 1]]}))

This module only re-exports the public API; each op lives with its rules in
``graphdl/ops/``.
"""

from . import data, initializers, losses, metrics, nn, optim
from .autodiff import gradients
from .checkpoint import CheckpointError, restore, save
from .compiled import Compiled, compile  # noqa: A004 (gd.compile)
from .dtypes import bool_, float32, float64, int32, int64
from .errors import (
                     DTypeError,
                     ExecutionError,
                     FeedError,
                     GraphError,
                     GraphvizNotFoundError,
                     NotDifferentiableError,
                     NotInGraphError,
                     NumericsError,
                     OutOfMemoryError,
                     RenderError,
                     ShapeError,
)
from .gradcheck import GradientCheckError, check_gradients
from .graph import (
                     Graph,
                     Node,
                     Tensor,
                     control_dependencies,
                     get_default_graph,
                     name_scope,
                     reset_default_graph,
)
from .ops import operators as _operators  # noqa: F401 (attaches Tensor operators)
from .ops.array import *  # noqa: F403
from .ops.axes import expand_dims, squeeze
from .ops.conv import *  # noqa: F403 (each family module lists its public names in __all__)
from .ops.elementwise import (
                     abs,
                     add,
                     cast,
                     clip_by_value,
                     div,
                     divide,
                     equal,
                     exp,
                     expm1,
                     greater,
                     greater_equal,
                     leaky_relu,
                     less,
                     less_equal,
                     log,
                     log1p,
                     maximum,
                     minimum,
                     mul,
                     multiply,
                     neg,
                     negative,
                     not_equal,
                     pow,
                     power,
                     reciprocal,
                     relu,
                     rsqrt,
                     sigmoid,
                     sign,
                     softplus,
                     sqrt,
                     square,
                     sub,
                     subtract,
                     tanh,
                     where,
)
from .ops.linalg import matmul, transpose
from .ops.nn import *  # noqa: F403
from .ops.reduction import argmax, argmin, max, mean, min, sum
from .ops.shape import *  # noqa: F403
from .ops.sources import Initializer, Variable, constant, placeholder, trainable_variables
from .ops.state import assign, assign_add, assign_sub, group
from .session import Session
from .viz import render, to_svg

__version__ = "0.1.0"
