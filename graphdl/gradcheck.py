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
from .errors import GraphError
from .graph import Graph
from .ops.base import as_tensor
from .ops.reduction import sum as reduce_sum
from .ops.sources import placeholder
from .session import Session

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
    passing); raises :class:`GradientCheckError` naming the input otherwise.
    """
    dtype = np.dtype(dtype)
    d_eps, d_rtol, d_atol = TOLERANCES[dtype]
    eps, rtol, atol = eps or d_eps, rtol or d_rtol, atol or d_atol
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

        def value(point, tgt=tgt):
            return float(Session(graph, backend=backend, seed=seed).run(
                tgt, dict(zip(xs, point))))

        for _ in range(n_directions):
            vs = {i: rng.standard_normal(arrays[i].shape).astype(dtype) for i in diff}
            grad_vals = Session(graph, backend=backend, seed=seed).run(
                analytic, dict(zip(xs, arrays)))
            symbolic = sum(float(np.sum(g * vs[i])) for g, i in zip(grad_vals, diff))
            plus = [a + eps * vs[i] if i in vs else a for i, a in enumerate(arrays)]
            minus = [a - eps * vs[i] if i in vs else a for i, a in enumerate(arrays)]
            numeric = (value(plus) - value(minus)) / (2 * eps)
            err = abs(symbolic - numeric) / (atol + rtol * abs(numeric))
            worst = max(worst, err)
            if err > 1:
                raise GradientCheckError(
                    f"check_gradients: order-{level} directional derivative mismatch: "
                    f"symbolic {symbolic:.10g} vs finite-difference {numeric:.10g} "
                    f"(eps={eps}, rtol={rtol}, atol={atol})")
    return worst
