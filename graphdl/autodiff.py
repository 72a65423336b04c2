"""Reverse-mode differentiation that *adds nodes*: ``gradients(ys, xs)``.

The pass walks the nodes between ``xs`` and ``ys`` in reverse order and calls
each op's ``vjp`` rule. Two things happen here, once, for every op:

* fan-out: cotangents reaching one tensor from several consumers are summed;
* broadcasting: a cotangent whose shape is the broadcast shape is summed back
  to the input's shape (``sum_to_like``), and cast to the input's dtype.

New nodes are built inside ``graph.gradient_context()`` (so pictures can tell
them apart) and under the name scope ``gradients``, each rule's nodes in the
forward node's own scope (``gradients/dense1/...``).
"""

import numpy as np

from . import dtypes as _dt
from .errors import DTypeError, GraphError, NotDifferentiableError
from .graph import Tensor, ancestors
from .ops.axes import broadcast_like, sum_to_like
from .ops.base import as_tensor
from .ops.elementwise import add, cast
from .ops.shape import ensure_shape_like
from .shapes import fmt


def gradients(ys, xs, grad_ys=None, unconnected="none", name="gradients"):
    """Symbolic gradients of ``sum(ys)`` with respect to each tensor in ``xs``.

    ``ys``: a tensor or list of float tensors; ``xs``: a tensor or list.
    ``grad_ys``: cotangents seeding each y (default: ones, i.e. d(sum y)/dx).
    ``unconnected``: for an x that ``ys`` do not depend on, return ``None``
    ("none", the default) or a zero tensor shaped like x ("zero").

    Returns a list (or a single tensor when ``xs`` is a single tensor). Raises
    :class:`~graphdl.errors.NotDifferentiableError` when ys depend on an x only
    through ops with no gradient (argmax, comparisons, casts to int).
    """
    single = isinstance(xs, Tensor)
    ys = [ys] if isinstance(ys, Tensor) else list(ys)
    xs = [xs] if single else list(xs)
    if unconnected not in ("none", "zero"):
        raise GraphError(f"gradients: unconnected must be 'none' or 'zero', got {unconnected!r}")
    if not ys:
        raise GraphError("gradients: ys is empty")
    for t in ys + xs:
        if not isinstance(t, Tensor):
            raise GraphError(f"gradients: expected tensors, got {type(t).__name__}")
    graph = ys[0].graph
    for y in ys:
        if not _dt.is_float(y.dtype):
            raise NotDifferentiableError(f"gradients: y {y.name!r} has dtype {y.dtype}; "
                                         "only floating-point tensors have gradients")
    if grad_ys is None:
        grad_ys = [None] * len(ys)
    elif not isinstance(grad_ys, (list, tuple)):  # one tensor or array: one grad_y
        grad_ys = [grad_ys]
    if len(grad_ys) != len(ys):
        raise GraphError(f"gradients: {len(ys)} ys but {len(grad_ys)} grad_ys")

    between = _nodes_between(xs, ys)
    grads = {}  # tensor -> list of cotangent tensors
    with graph.gradient_context(ys), graph.name_scope(name) as root:
        for y, gy in zip(ys, grad_ys):
            seed = broadcast_like(as_tensor(1.0, dtype=y.dtype, like=y), y) \
                if gy is None else _grad_y(gy, y)
            grads.setdefault(y, []).append(seed)
        for node in sorted(between, key=lambda n: n.id, reverse=True):
            if not any(t.node in between for t in _gradient_inputs(node)):
                continue  # nothing this node depends on needs a gradient (e.g. an x at
                # the bottom); an x with other xs below it is walked through
            out_grads = [_total(grads.get(o)) for o in node.outputs]
            if all(g is None for g in out_grads) or not node.op.differentiable:
                continue
            # file the rule's nodes under the forward node's scope: gradients/dense1/...
            with graph.enter_scope(f"{root}/{node.scope}"):
                in_grads = node.op.vjp(node, *out_grads)
                for inp, g in zip(node.inputs, in_grads):
                    if g is None or inp.node not in between or not _dt.is_float(inp.dtype):
                        continue
                    g = g() if callable(g) else g  # lazy rules build only what is needed
                    if g is not None:
                        grads.setdefault(inp, []).append(_fit(g, inp))
        results = []
        for x in xs:
            g = _total(grads.get(x))
            if g is None:
                _raise_if_blocked(x, between)
                if unconnected == "zero":
                    g = broadcast_like(as_tensor(0.0, dtype=x.dtype, like=x), x)
            results.append(g)
    return results[0] if single else results


def _grad_y(gy, y):
    """A given cotangent for y: y's dtype and exactly y's shape (None dims checked when
    the graph runs), since a broadcast or summed-away cotangent is a wrong gradient."""
    if not isinstance(gy, Tensor):
        arr = np.asarray(gy)
        if arr.dtype.kind in "iuf":
            gy = as_tensor(arr.astype(y.dtype), like=y)
        else:
            raise DTypeError(f"gradients: grad_y for {y.name!r} is not numeric "
                             f"({type(gy).__name__})")
    if not _dt.is_float(gy.dtype):
        raise DTypeError(f"gradients: grad_y for {y.name!r} has dtype {gy.dtype}; "
                         "expected a floating-point value")
    if gy.dtype != y.dtype:
        gy = cast(gy, y.dtype)
    return ensure_shape_like(gy, y, f"gradients: grad_y for {y.name!r}")


def _total(gs):
    """Sum of the cotangents reaching one tensor (fan-out), or None."""
    if not gs:
        return None
    if len(gs) > 1:
        total = gs[0]
        for g in gs[1:]:
            total = add(total, g)
        gs[:] = [total]
    return gs[0]


def _fit(g, x):
    """Bring a cotangent to x's shape (undo broadcasting) and dtype."""
    if g.dtype != x.dtype:
        g = cast(g, x.dtype)
    if g.shape != x.shape:
        g = sum_to_like(g, x)
    return g


def _nodes_between(xs, ys):
    """Nodes that depend on some x and that some y depends on (x nodes included)."""
    downstream = {x.node for x in xs}
    above = ancestors([y.node for y in ys], control=False)
    x_nodes = {x.node for x in xs}
    for n in sorted(above, key=lambda n: n.id):
        if n in x_nodes or any(t.node in downstream for t in _gradient_inputs(n)):
            downstream.add(n)
    return downstream & above


def _gradient_inputs(node):
    """The inputs gradients can flow to (all but those read only for their shape)."""
    skip = node.op.shape_only_inputs
    if isinstance(skip, slice):
        skip = range(len(node.inputs))[skip]
    return [t for i, t in enumerate(node.inputs) if i not in skip]


def _raise_if_blocked(x, between):
    """x is connected to ys, but only through ops without gradients: say which.

    A comparison used as the condition of ``where`` only selects, so it is not
    a blocker (the gradient there is genuinely zero, as in relu's second
    derivative); a non-differentiable result used as a *value* (argmax cast to
    float, a comparison cast and multiplied) is.
    """
    if x.node not in between or not _dt.is_float(x.dtype):
        return  # integers (labels, indices) never have a gradient: None, not an error
    consumers = {}
    for n in between:
        for slot, t in enumerate(n.inputs):
            consumers.setdefault(t.node, []).append((n, slot))
    blockers = [n for n in between if not n.is_gradient and _has_no_gradient(n) and any(
        t.node in between for t in n.inputs) and any(
        slot not in c.op.selector_inputs for c, slot in consumers.get(n, []))]
    if blockers:
        names = ", ".join(f"{n.op.name} ({n.name!r})"
                          for n in sorted(blockers, key=lambda n: n.id))
        raise NotDifferentiableError(
            f"gradients: y depends on {x.name!r} {fmt(x.shape)} only through ops that have "
            f"no gradient: {names}")


def _has_no_gradient(node):
    return not node.op.has_gradient(node)
