"""Program -> LoweredProgram: state made explicit, groups and control edges gone.

The rules (the same ones the reference backend follows, see docs/architecture.md):

* a variable read is a ``"variable"`` parameter: the value at the start of the run;
  feeding a variable replaces what its *reads* see, but assignments still start
  from the stored value (``assign_add`` adds to what is stored);
* ``assign(v, x)`` -> ``cast(broadcast_to(x))``, ``assign_add``/``assign_sub`` ->
  ``cast(add/sub(current, x))``, where ``current`` is ``v``'s latest new value in
  graph order; the last one of each variable becomes an ``update``;
* groups produce nothing and are dropped;
* every other node becomes one :class:`~graphdl.passes.ir.LOp` with the same op and
  attrs (constants stay ops; passes decide which become parameters).
"""

from ..graph import Tensor
from ..ops.elementwise import CAST
from ..ops.shape import BROADCAST_TO
from .ir import LOp, LoweredProgram, Value


def lower(program):
    """The LoweredProgram of ``program`` (a :class:`~graphdl.program.Program`)."""
    values = {}   # graph Tensor -> Value
    params = []
    ops = []
    stored = {}   # Variable -> its "variable" parameter (the stored value)
    current = {}  # Variable -> Value of its latest assignment in this run

    for t in program.feeds:
        values[t] = _param(params, t.shape, t.dtype, "feed", t, t)

    def stored_value(var):
        if var not in stored:
            stored[var] = _param(params, var.shape, var.dtype, "variable", var, var)
        return stored[var]

    def emit(op, inputs, attrs, out_types, origin, sources=()):
        lop = LOp(op, inputs, attrs, out_types, origin, sources)
        ops.append(lop)
        return lop.outputs

    for node in program.nodes:
        if all(o in values for o in node.outputs) and node.outputs:
            continue  # fed
        op = node.op
        if op.source == "variable":
            var = node.outputs[0]
            values[var] = stored_value(var)
        elif op.is_group:
            continue
        elif op.updates_variable:
            var, x = node.inputs
            value = values[x]
            if op.update_with is None:
                new = value
                if new.shape != var.shape:
                    (new,) = emit(BROADCAST_TO, [new], {"shape": var.shape},
                                  [(var.shape, new.dtype)], node)
            else:
                arith = op.update_with
                old = current.get(var) or stored_value(var)
                ((shape, dtype),) = arith.infer(old, value)
                (new,) = emit(arith, [old, value], {}, [(shape, dtype)], node)
            if new.dtype != var.dtype:
                (new,) = emit(CAST, [new], {"dtype": var.dtype}, [(var.shape, var.dtype)],
                              node)
            if new.source is None:
                new.source = node.outputs[0]
            current[var] = new
            values[node.outputs[0]] = new
        else:
            outs = emit(op, [values[t] for t in node.inputs], node.attrs,
                        [(o.shape, o.dtype) for o in node.outputs], node, node.outputs)
            values.update(zip(node.outputs, outs))

    fetches = [values[f] if isinstance(f, Tensor) else None for f in program.fetches]
    updates = [(var, v) for var, v in current.items()]
    return LoweredProgram(program, params, ops, fetches, updates)


def _param(params, shape, dtype, kind, ref, source):
    v = Value(shape, dtype, kind=kind, ref=ref, source=source)
    params.append(v)
    return v


__all__ = ["lower"]
