"""Layers, Sequential models and Keras-style training, built from graph ops.

    model = gd.nn.Sequential([gd.nn.Dense(64, activation="relu"), gd.nn.Dense(10)])

See :mod:`graphdl.nn.layers`, :mod:`graphdl.nn.recurrent`, :mod:`graphdl.nn.model`
and :mod:`graphdl.nn.callbacks`.
"""

from .callbacks import Callback, EarlyStopping, History, LambdaCallback
from .layers import (
    Activation,
    AvgPool2D,
    Conv2D,
    Dense,
    Dropout,
    Flatten,
    Layer,
    MaxPool2D,
    get_activation,
)
from .model import Sequential, default_backend
from .recurrent import GRU, LSTM, SimpleRNN

__all__ = ["Activation", "AvgPool2D", "Callback", "Conv2D", "Dense", "Dropout",
           "EarlyStopping", "Flatten", "GRU", "History", "LSTM", "LambdaCallback", "Layer",
           "MaxPool2D", "Sequential", "SimpleRNN", "default_backend", "get_activation"]
