"""Finite-difference gradient checking (public: users check their own ops).

``check_gradients(fn, inputs)`` builds ``fn`` on placeholders in float64,
projects its output on a random direction u (scalar L = Σ u·fn(x)), and
compares the symbolic directional derivative ∇L·v with the central difference
(L(x + εv) − L(x − εv)) / 2ε along random directions v. ``order=2`` does the
same for the gradient itself (L₂ = Σ w·∇L), which checks gradients of
gradients. Integer inputs (labels, indices) are passed through unperturbed.
"""

import numpy as np

from .autodiff import gradients
from .errors import DTypeError, GraphError
from .graph import Graph
from .ops.base import as_tensor
from .ops.reduction import sum as reduce_sum
from .ops.sources import placeholder
from .session import Session
from .shapes import fmt

#: per-dtype (epsilon, rtol, atol) for the central difference
TOLERANCES = {
    np.dtype("float64"): (1e-6, 1e-5, 1e-7),
    np.dtype("float32"): (1e-2, 5e-2, 1e-2),
}


class GradientCheckError(GraphError, AssertionError):
    """The symbolic and numeric directional derivatives disagree."""


def check_gradients(fn, inputs, order=1, dtype="float64", eps=None, rtol=None, atol=None,
                    n_directions=3, seed=0, backend="numpy"):
    """Check ``gradients`` of ``fn`` at ``inputs`` against central differences.

    ``fn`` maps placeholder tensors (one per input array) to an output tensor.
    ``order`` 1 checks first derivatives, 2 also checks second derivatives.
    Returns the largest observed error relative to the tolerance (≤ 1 means
    passing); raises :class:`GradientCheckError` naming the input otherwise. A NaN or
    inf on either side is a failure, never a pass; a mismatch where the one-sided
    differences disagree says the input sits on a kink (relu or abs at 0, a max tie).
    """
    dtype, eps, rtol, atol = _checked_options(order, dtype, eps, rtol, atol)
    rng = np.random.default_rng(seed)
    arrays = [np.asarray(a) for a in inputs]
    arrays = [a.astype(dtype) if a.dtype.kind == "f" else a for a in arrays]
    diff = [i for i, a in enumerate(arrays) if a.dtype.kind == "f"]
    if not diff:
        raise GraphError("check_gradients: no floating-point input to differentiate")

    graph = Graph(seed=seed)
    with graph.as_default():
        xs = [placeholder(a.shape, a.dtype, name=f"x{i}") for i, a in enumerate(arrays)]
        y = fn(*xs)
        u = as_tensor(rng.standard_normal(y.shape).astype(dtype), like=y)
        target = reduce_sum(y * u)
        targets = [target]
        grads = gradients(target, [xs[i] for i in diff], unconnected="zero")
        if order >= 2:
            w = [as_tensor(rng.standard_normal(g.shape).astype(dtype), like=g)
                 for g in grads]
            second = reduce_sum(sum(reduce_sum(g * wi) for g, wi in zip(grads, w)))
            targets.append(second)
    worst = 0.0
    for level, tgt in enumerate(targets, start=1):
        with graph.as_default():
            analytic = gradients(tgt, [xs[i] for i in diff], unconnected="zero")
        check = _Check(graph, xs, arrays, diff, tgt, level, backend, seed)
        grad_vals = check.run(analytic, arrays)
        for g, i in zip(grad_vals, diff):
            if not np.all(np.isfinite(g)):
                raise GradientCheckError(
                    f"check_gradients: the order-{level} symbolic gradient for input "
                    f"{xs[i].name!r} {fmt(arrays[i].shape)} holds NaN or inf "
                    f"({_count_bad(g)} of {g.size} values)")
        for _ in range(n_directions):
            vs = {i: rng.standard_normal(arrays[i].shape).astype(dtype) for i in diff}
            symbolic = sum(float(np.sum(g * vs[i])) for g, i in zip(grad_vals, diff))
            numeric = check.central(vs, eps)
            err = _error(symbolic, numeric, rtol, atol)
            if err > 1:  # also when either side is NaN or inf: say which input
                for g, i in zip(grad_vals, diff):
                    one = {i: vs[i]}
                    sym_i = float(np.sum(g * vs[i]))
                    num_i = check.central(one, eps)
                    if _error(sym_i, num_i, rtol, atol) > 1:
                        raise GradientCheckError(check.explain(i, sym_i, num_i, one, eps,
                                                               rtol, atol))
                raise GradientCheckError(check.explain(None, symbolic, numeric, vs, eps,
                                                       rtol, atol))
            worst = max(worst, err)
    return worst


def _checked_options(order, dtype, eps, rtol, atol):
    if order not in (1, 2):
        raise GraphError(f"check_gradients: order must be 1 or 2, got {order!r}")
    try:
        dtype = np.dtype(dtype)
    except TypeError as exc:
        raise DTypeError(f"check_gradients: unknown dtype {dtype!r}") from exc
    if dtype not in TOLERANCES:
        raise DTypeError(f"check_gradients: dtype must be float64 or float32, got {dtype}")
    d_eps, d_rtol, d_atol = TOLERANCES[dtype]
    eps = d_eps if eps is None else eps
    rtol = d_rtol if rtol is None else rtol
    atol = d_atol if atol is None else atol
    for name, v in (("eps", eps), ("rtol", rtol), ("atol", atol)):
        if not (isinstance(v, (int, float, np.floating)) and np.isfinite(v)) or v < 0 or \
                (name == "eps" and v == 0):
            raise GraphError(f"check_gradients: {name} must be a finite number "
                             f"{'> 0' if name == 'eps' else '>= 0'}, got {v!r}")
    return dtype, float(eps), float(rtol), float(atol)


def _error(symbolic, numeric, rtol, atol):
    """|symbolic - numeric| relative to the tolerance; inf when either is NaN or inf."""
    if not (np.isfinite(symbolic) and np.isfinite(numeric)):
        return np.inf
    return abs(symbolic - numeric) / (atol + rtol * abs(numeric))


def _count_bad(a):
    return int(np.size(a) - np.count_nonzero(np.isfinite(a)))


class _Check:
    """Evaluations of one target on fresh sessions with the same seed (dropout repeats)."""

    def __init__(self, graph, xs, arrays, diff, target, level, backend, seed):
        self.graph, self.xs, self.arrays, self.diff = graph, xs, arrays, diff
        self.target, self.level, self.backend, self.seed = target, level, backend, seed

    def run(self, fetches, point):
        return Session(self.graph, backend=self.backend, seed=self.seed).run(
            fetches, dict(zip(self.xs, point)))

    def value(self, vs, step):
        point = [a + step * vs[i] if i in vs else a for i, a in enumerate(self.arrays)]
        return float(self.run(self.target, point))

    def central(self, vs, eps):
        return (self.value(vs, eps) - self.value(vs, -eps)) / (2 * eps)

    def explain(self, i, symbolic, numeric, vs, eps, rtol, atol):
        which = (f"input {self.xs[i].name!r} {fmt(self.arrays[i].shape)}" if i is not None
                 else "the inputs together")
        if not np.isfinite(symbolic) or not np.isfinite(numeric):
            side = "symbolic" if not np.isfinite(symbolic) else "finite-difference"
            return (f"check_gradients: order-{self.level} directional derivative for {which} "
                    f"is not finite on the {side} side: symbolic {symbolic:.10g} vs "
                    f"finite-difference {numeric:.10g} (eps={eps})")
        msg = (f"check_gradients: order-{self.level} directional derivative mismatch for "
               f"{which}: symbolic {symbolic:.10g} vs finite-difference {numeric:.10g} "
               f"(eps={eps}, rtol={rtol}, atol={atol})")
        centre = self.value(vs, 0.0)
        forward = (self.value(vs, eps) - centre) / eps
        backward = (centre - self.value(vs, -eps)) / eps
        if _error(forward, backward, 10 * rtol, 10 * atol) > 1:
            msg += (f"; the one-sided differences disagree ({forward:.6g} vs "
                    f"{backward:.6g}): the input is probably at a kink (relu or abs at 0, "
                    "a tie in max); move the inputs off kinks")
        return msg
