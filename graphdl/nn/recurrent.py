"""Recurrent layers, unrolled over the time axis: SimpleRNN (Elman), LSTM, GRU.

Input: (batch, time, features) with the number of time steps known when the
layer is built. The loop is unrolled into one graph piece per step sharing the
same variables, so backpropagation through time is the ordinary reverse pass
of ``gd.gradients`` (seed 000, §6.2.2.4: the RNN "unrolled" into a feed-forward
network with shared parameters). The input projections of all steps are one
matmul ``x @ W`` before the loop; each step adds only its recurrent product.

The initial state is zero, so the first step has no recurrent term (h(0) = 0
makes ``h(0) @ U`` vanish) and no zero tensor of run-time batch size is needed.
Output: the last hidden state (batch, units), or every state (batch, time,
units) with ``return_sequences=True``.
"""

import numpy as np

from ..errors import ShapeError
from ..ops.elementwise import sigmoid, tanh
from ..ops.shape import split, stack
from ..ops.sources import Initializer
from ..shapes import fmt
from .layers import Layer, _check_int, get_activation

__all__ = ["SimpleRNN", "LSTM", "GRU"]


class _Recurrent(Layer):
    gates = 1  # how many units-wide blocks the input projection has

    def __init__(self, units, return_sequences=False, kernel_initializer="glorot_uniform",
                 recurrent_initializer="orthogonal", name=None, input_shape=None):
        super().__init__(name, input_shape)
        self.units = _check_int(units, f"{type(self).__name__}: units")
        self.return_sequences = return_sequences
        self.kernel_initializer = kernel_initializer
        self.recurrent_initializer = recurrent_initializer

    def build(self, x):
        if x.ndim != 3 or x.shape[1] is None or x.shape[2] is None:
            raise ShapeError(f"{type(self).__name__} {self.name!r}: expected input "
                             "(batch, time, features) with known time and features, got "
                             f"{x.name!r} {fmt(x.shape)}")
        self.W = self.add_weight("W", (x.shape[2], self.gates * self.units),
                                 self.kernel_initializer)
        self.b = self.add_weight("b", (self.gates * self.units,), self.bias_initializer())
        self.build_recurrent()

    def bias_initializer(self):
        return "zeros"

    def call(self, x, training):
        xw = x @ self.W + self.b  # every step's input projection at once: (N, T, gates*U)
        state = None
        outputs = []
        for t in range(x.shape[1]):
            state = self.step(xw[:, t, :], state)
            outputs.append(state[0] if isinstance(state, tuple) else state)
        return stack(outputs, axis=1) if self.return_sequences else outputs[-1]


class SimpleRNN(_Recurrent):
    """Elman RNN (seed 000, Algorithm 3): h(t) = f(x(t) We + h(t-1) Wh + b).

    Variables: ``W`` (features, units) = We, ``U`` (units, units) = Wh, ``b``.
    The output layer o(t) = fs(Ws h(t) + bs) of the algorithm is a Dense layer
    applied on top (to every step with ``return_sequences=True``).
    """

    def __init__(self, units, activation="tanh", **kwargs):
        super().__init__(units, **kwargs)
        self.activation = get_activation(activation)

    def build_recurrent(self):
        self.U = self.add_weight("U", (self.units, self.units), self.recurrent_initializer)

    def step(self, xw_t, h):
        return self.activation(xw_t if h is None else xw_t + h @ self.U)


def _gate_bias(units, block, value, description):
    """Zeros, except ``value`` for the gate in block ``block`` (of ``units`` each): a
    gate that keeps the state starts mostly open (σ(1) ≈ 0.73 per step; long delays
    want more, e.g. 3: σ(3) ≈ 0.95)."""
    def init(shape, dtype="float32"):
        bias = np.zeros(shape)
        bias[block * units:(block + 1) * units] = value
        return Initializer(shape, dtype, lambda rng, s: bias.copy(), f"{description}={value}")
    return init


class LSTM(_Recurrent):
    """Long short-term memory (seed 000, equations 33-37), gates in one matmul:

        f(t) = σ(Wf x(t) + Uf h(t-1) + bf)      forget gate
        i(t) = σ(Wi x(t) + Ui h(t-1) + bi)      input gate
        o(t) = σ(Wo x(t) + Uo h(t-1) + bo)      output gate
        c(t) = f(t) ∘ c(t-1) + i(t) ∘ tanh(Wc x(t) + Uc h(t-1) + bc)
        h(t) = o(t) ∘ tanh(c(t))

    ``W`` (features, 4 units) and ``U`` (units, 4 units) hold the blocks in the order
    i, f, c, o (Keras' layout); the forget bias starts at ``forget_bias`` (1).
    """

    gates = 4

    def __init__(self, units, forget_bias=1.0, **kwargs):
        super().__init__(units, **kwargs)
        self.forget_bias = float(forget_bias)

    def bias_initializer(self):
        return _gate_bias(self.units, 1, self.forget_bias, "forget_bias")

    def build_recurrent(self):
        self.U = self.add_weight("U", (self.units, 4 * self.units), self.recurrent_initializer)

    def step(self, xw_t, state):
        z = xw_t if state is None else xw_t + state[0] @ self.U
        i, f, g, o = split(z, 4, axis=-1)
        c = sigmoid(i) * tanh(g)
        if state is not None:
            c = sigmoid(f) * state[1] + c
        return sigmoid(o) * tanh(c), c


class GRU(_Recurrent):
    """Gated recurrent unit (Cho et al. 2014):

        z(t) = σ(Wz x(t) + Uz h(t-1) + bz)                 update gate
        r(t) = σ(Wr x(t) + Ur h(t-1) + br)                 reset gate
        n(t) = tanh(Wn x(t) + Un (r(t) ∘ h(t-1)) + bn)     candidate
        h(t) = z(t) ∘ h(t-1) + (1 - z(t)) ∘ n(t)

    ``W`` (features, 3 units) holds z, r, n; ``U`` (units, 2 units) holds Uz, Ur and
    ``Un`` (units, units) the candidate's recurrent weights. The update-gate bias
    starts at ``update_bias`` (0): a positive value (3: σ(3) ≈ 0.95) makes the state
    persist at the start, which long delays need, like the LSTM's forget bias.
    """

    gates = 3

    def __init__(self, units, update_bias=0.0, **kwargs):
        super().__init__(units, **kwargs)
        self.update_bias = float(update_bias)

    def bias_initializer(self):
        return _gate_bias(self.units, 0, self.update_bias, "update_bias")

    def build_recurrent(self):
        self.U = self.add_weight("U", (self.units, 2 * self.units), self.recurrent_initializer)
        self.Un = self.add_weight("Un", (self.units, self.units), self.recurrent_initializer)

    def step(self, xw_t, h):
        xz, xr, xn = split(xw_t, 3, axis=-1)
        if h is None:
            return (1.0 - sigmoid(xz)) * tanh(xn)
        hz, hr = split(h @ self.U, 2, axis=-1)
        z, r = sigmoid(xz + hz), sigmoid(xr + hr)
        n = tanh(xn + (r * h) @ self.Un)
        return z * h + (1.0 - z) * n
