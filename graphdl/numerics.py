"""``Session(check_numerics=True)``: name the node where a NaN or inf first appeared.

The design works the same on every backend, compiled or not:

1. the backend runs the program as usual (no per-op checks slow it down or change
   its code);
2. the Session checks the fetched values and the staged variable updates; when all
   are finite (the normal case) that is all it costs;
3. otherwise it rolls the run back and replays the same program, from the same
   variable values, feeds and random state, through the NumPy reference interpreter,
   which keeps every intermediate value. The *origin* is the earliest node that a
   non-finite fetch or update depends on and that produced a NaN from NaN-free inputs
   (when the results hold NaN: an inf input such as a ``-inf`` mask may be
   legitimate), else an inf from finite inputs. A NaN masked away by ``where`` is
   not reported;
4. a :class:`~graphdl.errors.NumericsError` names that node, its op, its inputs
   (shapes, whether finite, value ranges) and the line of user code that built it.
   The run changes no variable.

If the reference replay is finite everywhere, the backend disagrees with the
reference: the error says so (a backend bug, not a numerical problem of the model).
"""

import numpy as np

from .errors import NumericsError
from .graph import Tensor, ancestors, describe_site
from .shapes import fmt


def non_finite(values):
    """Indices of the float arrays in ``values`` holding NaN or inf."""
    return [i for i, v in enumerate(values) if _bad(v)]


def _bad(value):
    return (value is not None and np.asarray(value).dtype.kind in "fc"
            and not np.all(np.isfinite(value)))


def _has_nan(value):
    return (value is not None and np.asarray(value).dtype.kind in "fc"
            and bool(np.any(np.isnan(value))))


def find_origin(program, ctx, feeds, updates):
    """The NumericsError for a run whose fetches or ``updates`` (Variables) hold NaN/inf.

    ``ctx`` must be at the state the failed run started from (the Session rolled it
    back and opened a new transaction); the replay stages writes that are discarded.
    """
    from .backends.reference import evaluate  # noqa: PLC0415 (backends import the session)

    values = evaluate(program, ctx, feeds)
    targets = [f for f in program.fetches if isinstance(f, Tensor) and _bad(values.get(f))]
    staged = ctx.staged()
    bad_vars = [v for v in updates if _bad(staged.get(v))]
    roots = {t.node for t in targets}
    for var in bad_vars:  # the assignments that wrote the bad value
        roots.update(n for n in program.nodes if n.op.updates_variable
                     and n.inputs and n.inputs[0] is var)
    upstream = ancestors(roots) if roots else set()
    # a NaN is traced to where NaN first appeared (an inf input, e.g. a -inf mask, may be
    # legitimate); an inf alone to where the first non-finite value appeared
    has_nan = any(_has_nan(values.get(t)) for t in targets) or any(
        _has_nan(staged.get(v)) for v in bad_vars)
    bad = _has_nan if has_nan else _bad
    for node in sorted(upstream, key=lambda n: n.id):  # fed placeholders included
        outs = [values.get(t) for t in node.outputs]
        ins = [values.get(t) for t in node.inputs]
        if any(bad(o) for o in outs) and not any(bad(i) for i in ins):
            return NumericsError(_message(node, ins, outs, feeds,
                                          "NaN-free" if has_nan else "finite"))
    what = ", ".join([repr(t.name) for t in targets] + [repr(v.name) for v in bad_vars])
    return NumericsError(
        f"check_numerics: the backend produced NaN or inf in {what or 'its results'} but "
        "the reference interpreter, replaying the same run, does not: the backend "
        "disagrees with the reference (please report it)")


def _message(node, ins, outs, fed, clean):
    bad_outs = ", ".join(f"{t.name!r} {fmt(np.shape(v))} ({_summary(v)})"
                         for t, v in zip(node.outputs, outs) if _bad(v))
    if node.op.source == "feed" or (node.outputs and all(t in fed for t in node.outputs)):
        head = f"the value fed for {node.name!r} holds {_kinds(outs)}"
    elif node.op.source == "variable":
        head = f"variable {node.name!r} already holds {_kinds(outs)}"
    else:
        head = f"node {node.name!r} (op {node.op.name}) produced {bad_outs} from {clean} inputs"
    inputs = "; ".join(f"{t.name!r} {fmt(np.shape(v))} {_range(v)}"
                       for t, v in zip(node.inputs, ins) if v is not None) or "none"
    return (f"check_numerics: {head}; inputs: {inputs}; built at "
            f"{describe_site(node.created_at)}")


def _kinds(values):
    arrays = [np.asarray(v) for v in values if _bad(v)]
    kinds = [k for k, test in (("NaN", np.isnan), ("inf", np.isinf))
             if any(np.any(test(a)) for a in arrays)]
    return " and ".join(kinds)


def _summary(value):
    a = np.asarray(value)
    return f"{int(np.sum(np.isnan(a)))} NaN, {int(np.sum(np.isinf(a)))} inf of {a.size}"


def _range(value):
    a = np.asarray(value)
    if a.size == 0 or a.dtype.kind not in "fiub":
        return f"{a.dtype}"
    return f"{a.dtype} in [{a.min():.4g}, {a.max():.4g}]"
