"""The contract between the Session and a backend.

``Backend.compile(program)`` returns a callable ``run(ctx, feeds)`` where
``feeds`` maps fed tensors to NumPy arrays (already checked and cast by the
Session) and ``ctx`` is the :class:`RunContext` holding variable values and
the random generator. ``run`` returns one array per fetch (None for nodes).
"""

import numpy as np


class Backend:
    """Base class: subclasses set ``name`` and implement ``compile``."""

    name = None

    def compile(self, program):
        raise NotImplementedError


class RunContext:
    """Session state seen by stateful ops: variable values and randomness.

    Variables are initialized on first read from their initializer, drawing
    from ``rng`` when random.
    """

    def __init__(self, rng):
        self.values = {}  # Variable -> np.ndarray
        self.rng = rng

    def read_variable(self, var):
        if var not in self.values:
            self.values[var] = var.initial_value(self.rng)
        return self.values[var]

    def write_variable(self, var, value):
        self.values[var] = np.asarray(value, dtype=var.dtype)
