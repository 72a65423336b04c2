"""Layers: objects that build a piece of graph when called on a tensor.

A layer creates its variables the first time it is called (their shapes follow
from the input's), inside a name scope of its own (``dense/W``, ``conv2d_1/b``),
and keeps them in ``layer.variables``; calling it again reuses them. Everything
it builds is ordinary graph ops, so models render, differentiate and compile like
any hand-written graph.

    h = gd.nn.Dense(128, activation="relu")(x)
"""

import re

import numpy as np

from .. import initializers as _init
from ..errors import GraphError, ShapeError
from ..graph import Tensor, get_default_graph
from ..ops.base import as_tensor
from ..ops.conv import avg_pool2d, conv2d, max_pool2d
from ..ops.elementwise import leaky_relu, relu, sigmoid, softplus, tanh
from ..ops.nn import dropout, softmax
from ..ops.shape import flatten, reshape
from ..ops.sources import Variable
from ..shapes import fmt

__all__ = ["Layer", "Dense", "Conv2D", "MaxPool2D", "AvgPool2D", "Flatten", "Dropout",
           "Activation", "get_activation"]

_ACTIVATIONS = {
    "relu": relu, "tanh": tanh, "sigmoid": sigmoid, "softplus": softplus,
    "softmax": lambda x: softmax(x, -1), "leaky_relu": lambda x: leaky_relu(x, 0.2),
    "linear": lambda x: x,
}


def get_activation(spec):
    """The function for an activation name ("relu", "softmax", ...), None or a callable."""
    if spec is None:
        return _ACTIVATIONS["linear"]
    if callable(spec):
        return spec
    if spec in _ACTIVATIONS:
        return _ACTIVATIONS[spec]
    raise GraphError(f"unknown activation {spec!r}; use one of "
                     f"{', '.join(sorted(_ACTIVATIONS))}, None or a function")


def _snake(name):
    return re.sub(r"(?<=[a-z])(?=[A-Z])", "_", name).lower()  # Conv2D -> conv2d


class Layer:
    """Base class: subclasses implement ``build(x)`` (create variables) and
    ``call(x, training)`` (build the output).

    ``training`` is a Python bool or a bool scalar tensor; only layers that
    behave differently while training (Dropout) look at it.
    """

    def __init__(self, name=None, input_shape=None):
        self.name = name or _snake(type(self).__name__)
        #: Keras' ``input_shape`` (without the batch axis): on a model's first layer it
        #: builds the model right away, as ``Flatten(input_shape=(28, 28))`` in seed 002
        self.input_shape = None if input_shape is None else tuple(input_shape)
        self.variables = []
        #: regularization terms (scalar tensors) the model adds to its loss
        self.losses = []
        self.built = False
        self.graph = None

    def __call__(self, x, training=False):
        x = as_tensor(x)
        graph = get_default_graph()
        if self.graph is not None and graph is not self.graph:
            raise GraphError(f"layer {self.name!r} was built in another graph; a layer's "
                             "variables live in one graph")
        with graph.name_scope(self.name) as scope:
            if not self.built:  # keep the unique name the graph gave ("dense_1")
                self.graph, self.name = graph, scope.rsplit("/", 1)[-1]
                self.dtype = x.dtype if x.dtype.kind == "f" else np.dtype("float32")
                self.build(x)
                self.built = True
            return self.call(x, training)

    def build(self, x):
        """Create the layer's variables for input ``x`` (default: none)."""

    def call(self, x, training):
        raise NotImplementedError

    def add_weight(self, name, shape, initializer, trainable=True):
        """A new variable of this layer, initialized by ``initializer`` (name or function);
        its dtype is the input's (float32 unless the layer is called on float64)."""
        init = _init.get(initializer)(tuple(shape), dtype=self.dtype)
        var = Variable(init, name=name, trainable=trainable)
        self.variables.append(var)
        return var

    @property
    def trainable_variables(self):
        return [v for v in self.variables if v.trainable]

    def __repr__(self):
        return f"<{type(self).__name__} {self.name!r}>"


def _known(layer, x, axis, what):
    dim = x.shape[axis]
    if dim is None:
        raise ShapeError(f"{type(layer).__name__} {layer.name!r}: the {what} of the input "
                         f"{x.name!r} {fmt(x.shape)} must be known when the layer is built")
    return dim


class Dense(Layer):
    """``activation(x @ W + b)`` over the last axis of x: (..., in) -> (..., units).

    ``kernel_initializer`` is "glorot_uniform" by default ("he_normal" suits ReLU);
    ``kernel_regularizer`` is a function of W adding a penalty to the model's loss,
    e.g. ``gd.losses.L2(1e-4)``.
    """

    def __init__(self, units, activation=None, use_bias=True,
                 kernel_initializer="glorot_uniform", kernel_regularizer=None, name=None,
                 input_shape=None):
        super().__init__(name, input_shape)
        self.units = _check_int(units, "Dense: units")
        self.activation = get_activation(activation)
        self.use_bias = use_bias
        self.kernel_initializer = kernel_initializer
        self.kernel_regularizer = kernel_regularizer

    def build(self, x):
        if x.ndim < 1:
            raise ShapeError(f"Dense {self.name!r}: input {x.name!r} is a scalar")
        fan_in = _known(self, x, -1, "last axis")
        self.W = self.add_weight("W", (fan_in, self.units), self.kernel_initializer)
        self.b = self.add_weight("b", (self.units,), "zeros") if self.use_bias else None
        if self.kernel_regularizer is not None:
            self.losses.append(self.kernel_regularizer(self.W))

    def call(self, x, training):
        y = x @ self.W if x.ndim >= 2 else reshape(reshape(x, (1, -1)) @ self.W, (-1,))
        if self.b is not None:
            y = y + self.b
        return self.activation(y)


def _layout(data_format):
    if data_format not in ("NCHW", "NHWC"):
        raise GraphError(f"data_format must be 'NCHW' or 'NHWC', got {data_format!r}")
    return data_format


class Conv2D(Layer):
    """2-D convolution + bias + activation: (N, C, H, W) -> (N, filters, H', W').

    ``kernel_size``, ``stride``: int or pair; ``padding``: "valid", "same" or amounts
    (see :func:`graphdl.conv2d`). Weights are OIHW (filters, C, kh, kw).
    ``data_format="NHWC"`` takes and returns channels-last images (Keras' layout).
    """

    def __init__(self, filters, kernel_size, stride=1, padding="valid", activation=None,
                 use_bias=True, kernel_initializer="glorot_uniform", kernel_regularizer=None,
                 data_format="NCHW", name=None, input_shape=None):
        super().__init__(name, input_shape)
        self.filters = _check_int(filters, "Conv2D: filters")
        k = kernel_size
        self.kernel_size = (k, k) if isinstance(k, int) else tuple(k)
        self.stride, self.padding = stride, padding
        self.activation = get_activation(activation)
        self.use_bias = use_bias
        self.kernel_initializer = kernel_initializer
        self.kernel_regularizer = kernel_regularizer
        self.data_format = _layout(data_format)

    def build(self, x):
        if x.ndim != 4:
            raise ShapeError(f"Conv2D {self.name!r}: expected a rank-4 {self.data_format} "
                             f"input, got {x.name!r} {fmt(x.shape)}")
        channels = _known(self, x, 1 if self.data_format == "NCHW" else 3, "channel axis")
        self.W = self.add_weight("W", (self.filters, channels, *self.kernel_size),
                                 self.kernel_initializer)
        self.b = self.add_weight("b", (self.filters,), "zeros") if self.use_bias else None
        if self.kernel_regularizer is not None:
            self.losses.append(self.kernel_regularizer(self.W))

    def call(self, x, training):
        y = conv2d(x, self.W, stride=self.stride, padding=self.padding,
                   data_format=self.data_format)
        if self.b is not None:
            bias_shape = (1, self.filters, 1, 1) if self.data_format == "NCHW" else \
                (1, 1, 1, self.filters)
            y = y + reshape(self.b, bias_shape)
        return self.activation(y)


class _Pool(Layer):
    pool = None

    def __init__(self, pool_size=2, stride=None, padding="valid", data_format="NCHW",
                 name=None, input_shape=None):
        super().__init__(name, input_shape)
        self.pool_size, self.stride, self.padding = pool_size, stride, padding
        self.data_format = _layout(data_format)

    def call(self, x, training):
        return type(self).pool(x, self.pool_size, self.stride, self.padding,
                               data_format=self.data_format)


class MaxPool2D(_Pool):
    """Max over ``pool_size`` windows (stride defaults to the window size)."""

    pool = staticmethod(max_pool2d)


class AvgPool2D(_Pool):
    """Mean over ``pool_size`` windows (stride defaults to the window size)."""

    pool = staticmethod(avg_pool2d)


class Flatten(Layer):
    """(N, d1, d2, ...) -> (N, d1*d2*...)."""

    def call(self, x, training):
        return flatten(x)


class Dropout(Layer):
    """Inverted dropout of ``rate`` while training; the identity otherwise.

    The model feeds its ``training`` flag (a bool placeholder), so one graph serves
    fit (dropping) and evaluate/predict (not dropping).
    """

    def __init__(self, rate, name=None, input_shape=None):
        super().__init__(name, input_shape)
        self.rate = float(rate)

    def call(self, x, training):
        if isinstance(training, Tensor) or training:
            return dropout(x, self.rate, training=training)
        return x


class Activation(Layer):
    """Applies an activation function ("relu", "softmax", ...)."""

    def __init__(self, fn, name=None, input_shape=None):
        super().__init__(name, input_shape)
        self.fn = get_activation(fn)

    def call(self, x, training):
        return self.fn(x)


def _check_int(value, what):
    if not isinstance(value, (int, np.integer)) or value < 1:
        raise GraphError(f"{what} must be a positive int, got {value!r}")
    return int(value)
