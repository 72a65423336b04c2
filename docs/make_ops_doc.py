"""Regenerate docs/ops.md from the op definitions' docstrings.

    .venv/bin/python docs/make_ops_doc.py        # rewrite docs/ops.md
    .venv/bin/python docs/make_ops_doc.py --check  # exit 1 if it is out of date

The public builders' docstrings carry each op's shape rule and gradient note,
so the reference cannot drift from the code (tests/test_docs.py runs --check).
"""

import inspect
import sys
from pathlib import Path

import graphdl as gd
from graphdl.ops.base import REGISTRY

FAMILIES = [
    ("sources", "Graph inputs and state"),
    ("elementwise", "Elementwise math, comparisons, where, cast"),
    ("linalg", "Linear algebra"),
    ("reduction", "Reductions"),
    ("axes", "Adding, removing and broadcasting axes"),
    ("shape", "Shape, indexing and one-hot"),
    ("array", "Run-time shapes, filled arrays and gather"),
    ("nn", "Neural-network ops"),
    ("conv", "Convolution and pooling"),
    ("state", "Assignment and grouping"),
]
TARGET = Path(__file__).resolve().parent / "ops.md"


def _public_by_module():
    """graphdl's public callables grouped by the ops module that defines them."""
    groups = {}
    for name in sorted(dir(gd)):
        obj = getattr(gd, name)
        module = getattr(obj, "__module__", "") or ""
        if name.startswith("_") or not callable(obj) or not module.startswith("graphdl.ops."):
            continue
        groups.setdefault(module.rsplit(".", 1)[-1], {}).setdefault(id(obj), []).append(name)
    return groups


def _doc(obj):
    text = " ".join(inspect.getdoc(obj).split()) if inspect.getdoc(obj) else "(undocumented)"
    return text.replace("|", "\\|")  # keep table cells intact


def render():
    lines = ["# Ops", "",
             "Generated from the docstrings by `docs/make_ops_doc.py`; do not edit by hand.",
             "Every op has a shape/dtype rule checked at graph-build time, a NumPy reference",
             "(the `numpy` backend) and a gradient rule written as graph ops, so gradients can",
             "be differentiated again. Shapes: `?` is a dimension known only at run time.",
             "Python operators map to ops: `+ - * / ** @`, unary `-`, `< <= > >=` and `x[...]`.",
             ""]
    public = _public_by_module()
    for module, title in FAMILIES:
        funcs = public.get(module, {})
        if not funcs:
            continue
        lines += [f"## {title}", "", "| function | description |", "| --- | --- |"]
        for names in sorted(funcs.values(), key=lambda n: sorted(n)[0]):
            names = sorted(names, key=len, reverse=True)
            obj = getattr(gd, names[0])
            try:
                sig = str(inspect.signature(obj))
            except (TypeError, ValueError):
                sig = "(...)"
            alias = f" (alias: {', '.join('`gd.' + n + '`' for n in names[1:])})" \
                if len(names) > 1 else ""
            lines.append(f"| `gd.{names[0]}{sig}`{alias} | {_doc(obj)} |")
        lines.append("")
    internal = [op for op in REGISTRY.values() if not hasattr(gd, op.name)]
    lines += ["## Internal ops", "",
              "Built by gradient rules and helpers rather than called directly; they show",
              "up in backward pictures.", "", "| op | description |", "| --- | --- |"]
    lines += [f"| `{op.name}` | {_doc(type(op))} |"
              for op in sorted(internal, key=lambda o: o.name)]
    return "\n".join(lines) + "\n"


def main():
    text = render()
    if "--check" in sys.argv:
        if not TARGET.exists() or TARGET.read_text() != text:
            print("docs/ops.md is out of date: run .venv/bin/python docs/make_ops_doc.py")
            return 1
        return 0
    TARGET.write_text(text)
    print(f"wrote {TARGET}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
