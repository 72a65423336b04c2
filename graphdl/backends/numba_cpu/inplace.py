"""Which variable updates the generated code writes straight into the variable's array.

The buffer plan (graphdl/passes/buffers.py, ``lp.buffers.in_place``) proposes updates
whose old value no later kernel reads and after which nothing can fail. This module
accepts a proposal only where the CPU code generator can honour it, and adds the one
thing the plan cannot see from the IR alone: **views**. A rule may hand out a view of
its input (a reshape, a slice, ``stop_gradient``) instead of a new array, so a value
may share memory with a variable's array without being its parameter. Here every
value gets the set of parameters it may share memory with, conservatively: outputs
of fused kernels and of the rules known to allocate (elementwise loops, matmul,
reductions) share none; anything else may share with each of its inputs.

An update ``U`` of variable ``v`` (old value: parameter ``P``), produced by kernel
``K``, is written into ``P``'s array when

* the plan proposes it, ``P`` exists (the program reads ``v``), and ``K`` is a fused
  elementwise or matmul kernel (they make their run-time checks before their first
  write; an ``op`` kernel's rule might fail half-way);
* no kernel after ``K`` reads a value that may share memory with ``P``; ``K`` reads
  such a value only as ``P`` itself, in its elementwise part (the same element it
  writes), never as a matmul operand;
* no fetched value and no other update may share memory with ``P`` (the caller
  never holds an array that changes later).

Whether the array written is the variable's stored array or a private copy is the
backend's choice at run time (backend.py: the stored array only where the session
allows it and the array is one the backend made).
"""

from ...ops.linalg import MATMUL
from ...ops.reduction import MAX, MEAN, MIN, SUM
from .kernels.elementwise import lower_elementwise

_FRESH_REDUCTIONS = (SUM, MEAN, MAX, MIN)


def in_place_updates(lp, table):
    """{update Value: variable parameter Value} for the updates written in place."""
    plan = lp.buffers
    if plan is None or not plan.in_place or lp.kernels is None:
        return {}
    params = {p.ref: p for p in lp.params if p.kind == "variable"}
    kernel_of = {o: i for i, k in enumerate(lp.kernels) for lop in k.ops for o in lop.outputs}
    sources = _memory_sources(lp, table)
    live = [v for v in lp.fetches if v is not None] + [v for _, v in lp.updates]
    chosen = {}
    for var, new in plan.in_place.items():
        old = params.get(var)
        k_index = kernel_of.get(new)
        if old is None or k_index is None:
            continue
        kernel = lp.kernels[k_index]
        if kernel.kind not in ("elementwise", "matmul"):
            continue

        def shares(v, old=old):
            return old in sources.get(v, ())
        if any(shares(v) for k in lp.kernels[k_index + 1:] for v in k.inputs):
            continue
        if any(shares(v) and v is not old for v in kernel.inputs):
            continue
        if kernel.kind == "matmul" and any(shares(v) for v in kernel.ops[0].inputs):
            continue
        if any(shares(v) for v in live if v is not new):
            continue
        chosen[new] = old
    return chosen


def _memory_sources(lp, table):
    """Value -> frozenset of the parameters whose memory it may share."""
    sources = {p: frozenset((p,)) for p in lp.params}
    empty = frozenset()
    for k in lp.kernels:
        ops = [lop for lop in k.ops if lop.op.source != "constant"]
        fused = len(ops) > 1 and k.kind != "op"
        for lop in k.ops:
            if fused or _allocates(lop, table):
                for o in lop.outputs:
                    sources[o] = empty
                continue
            merged = frozenset().union(*(sources.get(v, empty) for v in lop.inputs))
            for o in lop.outputs:
                sources[o] = merged
    return sources


def _allocates(lop, table):
    """Whether ``lop``'s rule always writes its outputs into new arrays."""
    op = lop.op
    if op.source == "constant":
        return True  # a literal or a constant argument: never a variable's memory
    if op is MATMUL or op in _FRESH_REDUCTIONS:
        return True
    return table.supports(op) and table.rule(op) is lower_elementwise
