"""The buffer plan: which array each kernel writes, reusing dead ones, and which
variable updates are written straight into the variable's array.

Slots. Every value a kernel must materialize — its ``outputs``, all outputs of an
``op`` kernel, and the raw product of a ``matmul`` kernel with an epilogue (BLAS needs
an array) — gets a slot. A slot is freed after the last kernel reading its value and
reused by a later value of the same static shape and dtype; a fetched value or a
variable update keeps its slot to the end (the caller receives it). Values inside a
fused kernel get none (they are scalars in the loop). Static shapes may hold ``None``:
a generator allocates a slot at its first write in a run and, when a later value of
the slot has another run-time size, allocates anew.

In-place updates (``plan.in_place``). The new value of variable ``v`` is computed
directly into the array that holds ``v`` when all of these hold:

1. no kernel after the one producing the update (``K``) reads ``v``'s old value, and
   ``K`` reads it, if at all, only in elementwise ops at the very index it writes
   (same shape, no broadcasting): an elementwise kernel, or a matmul's epilogue — a
   matmul kernel writes the raw product to its own slot first, never to the output;
2. neither the old value nor the new value is fetched or committed to another
   variable (the caller never holds an array that later changes);
3. the run remains a transaction: no kernel after ``K`` can fail, and ``K`` itself
   fails, if at all, before its first write. Generated code makes its run-time checks
   at a kernel's entry, so only disagreeing sizes can make an elementwise, reduction or
   matmul kernel raise: two inputs with an unknown (``None``) dim on the same axis, or
   a matmul contracting an unknown dim. ``op`` kernels (but constants) are assumed to
   raise. So once
   the first in-place write happens, the run completes.

A backend that does not use the plan's in-place marks commits updates after the run
(``lp.updates``), which is always correct.
"""

from .ir import Kernel


class BufferPlan:
    """``slot_of``: Value -> slot index; ``slot_types``: (shape, dtype) per slot;
    ``in_place``: Variable -> the update Value written into the variable's array
    (such a Value has no slot)."""

    def __init__(self):
        self.slot_of = {}
        self.slot_types = []
        self.in_place = {}

    def __repr__(self):
        return (f"<BufferPlan {len(self.slot_of)} values in {len(self.slot_types)} slots, "
                f"{len(self.in_place)} in-place updates>")


def run(lp):
    """``lp`` with ``buffers`` set (needs ``lp.kernels``)."""
    if lp.kernels is None:
        raise ValueError("the buffer plan needs the fusion pass's kernels")
    plan = BufferPlan()
    plan.in_place = _in_place_updates(lp)
    stored_in_var = set(plan.in_place.values())
    last_use = _last_uses(lp)
    free = {}  # (shape, dtype) -> free slot indices
    for i, k in enumerate(lp.kernels):
        for v in _materialized(k):
            if v in stored_in_var or v in plan.slot_of:
                continue
            key = (v.shape, v.dtype)
            if free.get(key):
                plan.slot_of[v] = free[key].pop()
            else:
                plan.slot_of[v] = len(plan.slot_types)
                plan.slot_types.append(key)
        for v in k.inputs:
            if last_use.get(v) == i and v in plan.slot_of:
                free.setdefault((v.shape, v.dtype), []).append(plan.slot_of[v])
    lp.buffers = plan
    return lp


def _materialized(k):
    if k.kind == "op":
        return [o for lop in k.ops for o in lop.outputs]
    out = list(k.outputs)
    if k.kind == "matmul" and k.ops[0].outputs[0] not in out:
        out.insert(0, k.ops[0].outputs[0])
    return out


def _last_uses(lp):
    """Value -> index of the last kernel reading it; live values never die."""
    last = {}
    for i, k in enumerate(lp.kernels):
        for v in k.inputs:
            last[v] = i
    for v in lp.live_values():
        last[v] = len(lp.kernels)
    return last


def _may_fail(k):
    """Whether kernel ``k`` can raise at run time. ``op`` kernels: assume so (but a
    constant). Others
    raise only when sizes unknown at build time disagree: two different inputs with a
    ``None`` dim on the same iteration axis, or a matmul whose contracted dims are not
    both known."""
    if k.kind == "op":
        return k.ops[0].op.source != "constant"
    if k.kind == "matmul":
        mm = k.ops[0]
        a, b = mm.inputs
        ka = a.shape[-2] if mm.attrs.get("transpose_a") else a.shape[-1]
        kb = b.shape[-1] if mm.attrs.get("transpose_b") else b.shape[-2]
        if ka is None or kb is None or any(None in v.shape[:-2] for v in (a, b)):
            return True
        inputs = [v for v in k.inputs if v not in (a, b)]
    else:
        inputs = k.inputs
    unknown_on = {}  # iteration axis -> the inputs with a None dim there
    for v in inputs:
        for dim, axis in zip(v.shape, k.axis_map(v)):
            if dim is None and axis is not None:
                unknown_on.setdefault(axis, set()).add(v)
    return any(len(vs) > 1 for vs in unknown_on.values())


def _in_place_updates(lp):
    producer_kernel = {o: i for i, k in enumerate(lp.kernels) for lop in k.ops
                       for o in lop.outputs}
    readers = {}  # Value -> kernel indices reading it
    for i, k in enumerate(lp.kernels):
        for v in k.inputs:
            readers.setdefault(v, []).append(i)
    failing = [i for i, k in enumerate(lp.kernels) if _may_fail(k)]
    fetched = {v for v in lp.fetches if v is not None}
    committed = [v for _, v in lp.updates]
    old_of = {p.ref: p for p in lp.params if p.kind == "variable"}
    in_place = {}
    for var, new in lp.updates:
        k_index = producer_kernel.get(new)
        if k_index is None or any(i > k_index for i in failing):
            continue  # a parameter (copied when committed), or something after may fail
        if new in fetched or committed.count(new) > 1:
            continue
        old = old_of.get(var)
        if old is not None:
            if old in fetched or old in committed:
                continue
            reads = readers.get(old, [])
            if any(i > k_index for i in reads):
                continue
            k = lp.kernels[k_index]
            if k_index in reads and not _reads_at_same_index(k, old):
                continue
        in_place[var] = new
    return in_place


def _reads_at_same_index(k: Kernel, old):
    """Only elementwise ops of ``k`` read ``old``, each at the index it writes: an
    elementwise kernel, or a matmul's epilogue (the product itself is written to its
    own buffer first, so the epilogue still sees the old value)."""
    if old.shape != k.shape:
        return False
    if k.kind == "elementwise":
        return True
    return k.kind == "matmul" and old not in k.ops[0].inputs
