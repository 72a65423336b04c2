"""Optimizers whose whole training step is one op in the graph.

``train = opt.minimize(loss)`` adds the gradients (``gd.gradients``), the
optimizer's slots (momentum, moving averages: non-trainable variables under
the optimizer's name scope) and every update as assignment ops, grouped into
ONE op; ``sess.run(train, feed)`` is one training step on any backend.

Within a run every variable read sees its value from the start of the run, and
an assignment evaluates to the variable's new value: an update uses the *new*
slot value by consuming the slot assignment's output.

The learning rate is a Python number, a scalar tensor (e.g. a placeholder) or
a schedule — a function of the step counter (a float tensor, 1 on the first
step) returning a scalar tensor, such as :class:`ExponentialDecay`.
"""

import numpy as np

from .autodiff import gradients
from .errors import GraphError
from .graph import Tensor, name_scope
from .ops.base import as_tensor
from .ops.elementwise import cast, maximum, sqrt, where
from .ops.elementwise import pow as _pow
from .ops.reduction import sum as reduce_sum
from .ops.sources import Variable
from .ops.state import assign, assign_add, assign_sub, group

__all__ = ["Optimizer", "SGD", "RMSProp", "Adam", "ExponentialDecay", "PiecewiseConstant",
           "get"]


class Optimizer:
    """Base class: subclasses set ``name`` and implement ``update(var, grad, lr, step)``
    returning the update op(s) of one variable."""

    name = "optimizer"

    def __init__(self, learning_rate, clipnorm=None):
        if not isinstance(learning_rate, (int, float, Tensor)) and \
                not callable(learning_rate):
            raise GraphError(f"{type(self).__name__}: learning_rate must be a number, a "
                             f"scalar tensor or a schedule, got {learning_rate!r}")
        if clipnorm is not None and not clipnorm > 0:
            raise GraphError(f"{type(self).__name__}: clipnorm must be positive, got "
                             f"{clipnorm!r}")
        self.learning_rate = learning_rate
        #: each gradient is rescaled to at most this L2 norm (Keras' clipnorm): keeps
        #: the occasional huge gradient of a recurrent net from undoing training
        self.clipnorm = clipnorm
        self.iterations = None  # the step counter, created by minimize()

    def minimize(self, loss, var_list=None, name=None):
        """One op that computes the gradients of ``loss`` and updates ``var_list``
        (default: the graph's trainable variables) and the step counter."""
        if var_list is None:
            var_list = loss.graph.trainable_variables()
        var_list = list(var_list)
        for v in var_list:
            if not isinstance(v, Variable):
                raise GraphError(f"{self.name}.minimize: {getattr(v, 'name', v)!r} is not a "
                                 "gd.Variable")
        if not var_list:
            raise GraphError(f"{self.name}.minimize: no variables to train")
        grads = gradients(loss, var_list)
        pairs = [(v, g) for v, g in zip(var_list, grads) if g is not None]
        if self.clipnorm is not None:
            with name_scope("clip"):
                pairs = [(v, _clip_by_norm(g, self.clipnorm)) for v, g in pairs]
        if not pairs:
            raise GraphError(f"{self.name}.minimize: loss {loss.name!r} depends on none of "
                             "the variables")
        with name_scope(name or self.name):
            self.iterations = Variable(np.array(0, "int64"), name="iterations",
                                       trainable=False)
            count = assign_add(self.iterations, 1)  # 1 on the first step
            updates, typed = [], {}  # dtype -> (lr, step), built once for its variables
            for v, g in pairs:
                if v.dtype not in typed:
                    step = cast(count, v.dtype)
                    typed[v.dtype] = (self._learning_rate(step), step)
                with name_scope(v.name.replace("/", "_")):
                    out = self.update(v, g, *typed[v.dtype])
                updates.extend(out if isinstance(out, (list, tuple)) else [out])
            return group(*updates, count, name="train")

    def _learning_rate(self, step):
        """The learning rate as a scalar of step's dtype (the variables' dtype)."""
        lr = self.learning_rate
        if isinstance(lr, Tensor):
            return _like(lr, step)
        if callable(lr):
            return _like(lr(step), step)
        return as_tensor(float(lr), dtype=step.dtype)

    def slot(self, var, name, initial=0.0):
        """A non-trainable variable shaped like ``var`` holding optimizer state."""
        return Variable(np.full(var.shape, initial, var.dtype), name=name, trainable=False)

    def update(self, var, grad, lr, step):
        raise NotImplementedError


def _clip_by_norm(g, clipnorm):
    """g · min(1, clipnorm / ‖g‖): the direction kept, the length at most clipnorm."""
    norm = sqrt(reduce_sum(g * g))
    return g * (clipnorm / maximum(norm, as_tensor(clipnorm, like=norm)))


def _like(t, other):
    return t if t.dtype == other.dtype else cast(t, other.dtype)


class SGD(Optimizer):
    """Gradient descent, with momentum (seed 003) when ``momentum`` > 0:

        v ← momentum · v − lr · g;   w ← w + v
        nesterov: w ← w + momentum · v − lr · g   (with the new v)

    A momentum near 0 follows the gradient; near 1, the previous change.
    """

    name = "SGD"

    def __init__(self, learning_rate=0.01, momentum=0.0, nesterov=False, clipnorm=None):
        super().__init__(learning_rate, clipnorm)
        if not 0.0 <= momentum < 1.0:
            raise GraphError(f"SGD: momentum must be in [0, 1), got {momentum!r}")
        self.momentum, self.nesterov = float(momentum), bool(nesterov)

    def update(self, var, grad, lr, step):
        if self.momentum == 0.0:
            return assign_sub(var, lr * grad)
        v = self.slot(var, "velocity")
        v_new = assign(v, self.momentum * v - lr * grad)
        if self.nesterov:
            return [v_new, assign_add(var, self.momentum * v_new - lr * grad)]
        return [v_new, assign_add(var, v_new)]


class RMSProp(Optimizer):
    """s ← ρ s + (1 − ρ) g²;   w ← w − lr · g / (√s + ε)."""

    name = "RMSProp"

    def __init__(self, learning_rate=0.001, rho=0.9, epsilon=1e-7, clipnorm=None):
        super().__init__(learning_rate, clipnorm)
        self.rho, self.epsilon = float(rho), float(epsilon)

    def update(self, var, grad, lr, step):
        s = self.slot(var, "mean_square")
        s_new = assign(s, self.rho * s + (1.0 - self.rho) * (grad * grad))
        return [s_new, assign_sub(var, lr * grad / (sqrt(s_new) + self.epsilon))]


class Adam(Optimizer):
    """Adam (Kingma & Ba 2015), with bias correction at step t:

        m ← β1 m + (1 − β1) g;   v ← β2 v + (1 − β2) g²
        w ← w − lr · m̂ / (√v̂ + ε),   m̂ = m / (1 − β1ᵗ),  v̂ = v / (1 − β2ᵗ)
    """

    name = "Adam"

    def __init__(self, learning_rate=0.001, beta_1=0.9, beta_2=0.999, epsilon=1e-7,
                 clipnorm=None):
        super().__init__(learning_rate, clipnorm)
        self.beta_1, self.beta_2, self.epsilon = float(beta_1), float(beta_2), float(epsilon)

    def _corrections(self, step):
        """1 − β1ᵗ and 1 − β2ᵗ, built once per step dtype and shared by every variable."""
        cache = self.__dict__.setdefault("_bias", {})
        if (step.node, step.dtype) not in cache:
            cache[(step.node, step.dtype)] = tuple(
                1.0 - _pow(as_tensor(b, like=step), step) for b in (self.beta_1, self.beta_2))
        return cache[(step.node, step.dtype)]

    def update(self, var, grad, lr, step):
        m, v = self.slot(var, "m"), self.slot(var, "v")
        m_new = assign(m, self.beta_1 * m + (1.0 - self.beta_1) * grad)
        v_new = assign(v, self.beta_2 * v + (1.0 - self.beta_2) * (grad * grad))
        c1, c2 = self._corrections(step)
        m_hat, v_hat = m_new / c1, v_new / c2
        return [m_new, v_new, assign_sub(var, lr * m_hat / (sqrt(v_hat) + self.epsilon))]


# -- learning-rate schedules (graph values of the step counter) -----------------------
class ExponentialDecay:
    """lr(step) = initial · rate^(step / decay_steps) (``staircase``: integer exponent)."""

    def __init__(self, initial, decay_steps, decay_rate, staircase=False):
        self.initial, self.decay_steps = float(initial), float(decay_steps)
        self.decay_rate, self.staircase = float(decay_rate), staircase

    def __call__(self, step):
        e = (step - 1.0) / self.decay_steps  # the first step uses ``initial``
        if self.staircase:  # e >= 0: truncation is floor
            e = cast(cast(e, "int64"), step.dtype)
        return self.initial * _pow(as_tensor(self.decay_rate, like=step), e)


class PiecewiseConstant:
    """lr = values[i] for boundaries[i-1] < step <= boundaries[i] (steps count from 1)."""

    def __init__(self, boundaries, values):
        if len(values) != len(boundaries) + 1:
            raise GraphError("PiecewiseConstant: needs one more value than boundaries")
        self.boundaries, self.values = [float(b) for b in boundaries], \
            [float(v) for v in values]

    def __call__(self, step):
        lr = as_tensor(self.values[-1], like=step)
        for bound, value in reversed(list(zip(self.boundaries, self.values))):
            lr = where(step <= bound, as_tensor(value, like=step), lr)
        return lr


_BY_NAME = {"sgd": SGD, "rmsprop": RMSProp, "adam": Adam}


def get(optimizer):
    """An optimizer instance from a name ("adam", "sgd", "rmsprop") or an instance."""
    if isinstance(optimizer, Optimizer):
        return optimizer
    if isinstance(optimizer, str) and optimizer.lower() in _BY_NAME:
        return _BY_NAME[optimizer.lower()]()
    raise GraphError(f"unknown optimizer {optimizer!r}; use one of "
                     f"{', '.join(sorted(_BY_NAME))} or a gd.optim optimizer")
