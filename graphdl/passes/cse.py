"""Common-subexpression elimination: one op for each (op, inputs, attrs).

Attributes are hashable (constants are ``FrozenArray``), so equal constants and equal
computations on the same Values merge. Stateful ops (random draws) never merge: two
dropout masks are two draws. Attribute values of different types never match
(``np.dtype("float32")`` equals the string "float32" in Python, but is not the same
attribute).
"""


def key_of(lop):
    """The identity of an op application, or None for ops that must never merge."""
    if lop.op.stateful:
        return None
    attrs = tuple(sorted((k, type(v).__name__, v) for k, v in lop.attrs.items()))
    return (lop.op, lop.inputs, attrs)


def run(lp):
    """``lp`` with repeated computations replaced by their first occurrence."""
    seen, mapping, kept = {}, {}, []
    for lop in lp.ops:
        if mapping:
            lop.inputs = tuple(mapping.get(v, v) for v in lop.inputs)
        key = key_of(lop)
        first = seen.get(key) if key is not None else None
        if first is None:
            if key is not None:
                seen[key] = lop
            kept.append(lop)
            continue
        mapping.update(zip(lop.outputs, first.outputs))
    lp.ops = kept
    lp.substitute(mapping)
    return lp
