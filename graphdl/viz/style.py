"""How each kind of node looks: one table of shapes and colours, and the label text.

Kinds: ``placeholder`` (green ellipse), ``variable`` (orange cylinder),
``constant`` (small grey box), ``op`` (blue rounded box), ``state`` (purple
box: assignments and ``group``), ``scope`` (a collapsed name scope: a 3-D box)
and ``external`` (a tensor produced outside the view: a dotted grey box).
Gradient nodes keep their kind's shape but turn red and dashed.
"""

import html
import re

import numpy as np

from ..shapes import fmt

FONT = "Helvetica"

KINDS = {
    "placeholder": {"shape": "ellipse", "style": "filled", "fillcolor": "#d1fae5",
                    "color": "#047857"},
    "variable": {"shape": "cylinder", "style": "filled", "fillcolor": "#ffedd5",
                 "color": "#c2410c"},
    "constant": {"shape": "box", "style": "filled", "fillcolor": "#f3f4f6",
                 "color": "#9ca3af", "height": "0.2", "width": "0.3",
                 "margin": "0.04,0.02"},
    "op": {"shape": "box", "style": "rounded,filled", "fillcolor": "#dbeafe",
           "color": "#1d4ed8"},
    "state": {"shape": "box", "style": "filled", "fillcolor": "#ede9fe", "color": "#6d28d9"},
    "scope": {"shape": "box3d", "style": "filled", "fillcolor": "#f1f5f9", "color": "#475569"},
    "external": {"shape": "box", "style": "rounded,dotted", "color": "#94a3b8",
                 "fontcolor": "#64748b", "fontsize": "8"},
}
#: gradient nodes: the kind's shape, drawn red and dashed
GRADIENT = {"fillcolor": "#fee2e2", "color": "#dc2626", "fontcolor": "#7f1d1d"}
GRADIENT_CONSTANT_FILL = "#fef2f2"
GRADIENT_EDGE = "#ef4444"
EDGE = "#64748b"
CONTROL_EDGE = "#94a3b8"
HIGHLIGHT = "#d97706"
DIM_LINE = "#cbd5e1"
DIM_TEXT = "#94a3b8"

CLUSTER = {"style": "rounded,filled", "fillcolor": "#f8fafc", "color": "#94a3b8"}
GRADIENT_CLUSTER = {"style": "rounded,filled,dashed", "fillcolor": "#fff5f5",
                    "color": "#f87171", "fontcolor": "#b91c1c"}
GROUP_CLUSTER = {"style": "filled,bold", "fillcolor": "#fefce8", "color": "#ca8a04",
                 "fontcolor": "#854d0e"}
PASS_CLUSTERS = {
    "forward": {"label": "forward", "style": "rounded", "color": "#475569", "penwidth": "1.5"},
    "backward": {"label": "backward (gradients)", "style": "rounded,dashed",
                 "color": "#dc2626", "fontcolor": "#b91c1c", "penwidth": "1.5"},
}

LEGEND = [  # (kind, gradient, text) in the order the legend lists them
    ("placeholder", False, "placeholder"),
    ("variable", False, "variable"),
    ("constant", False, "constant"),
    ("op", False, "op"),
    ("state", False, "state update"),
    ("op", True, "gradient op"),
    ("scope", False, "collapsed scope"),
    ("scope", True, "collapsed gradients"),
    ("external", False, "outside the view"),
]

#: box kind of each source role (OpDef.source)
_SOURCE_KINDS = {"feed": "placeholder", "variable": "variable", "constant": "constant"}
_DTYPE_SHORT = {"float64": "f64", "float32": "f32", "float16": "f16", "int64": "i64",
                "int32": "i32", "int8": "i8", "uint8": "u8", "bool": "bool"}
_FLOAT32 = np.dtype("float32")


def kind_of(node):
    """The box kind of a node, from its op's flags (never its name)."""
    op = node.op
    if op.source is not None:
        return _SOURCE_KINDS[op.source]
    return "state" if op.updates_variable or op.is_group else "op"


def node_attrs(kind, gradient=False):
    """DOT attributes for a node of ``kind`` (a fresh dict the caller may change)."""
    attrs = dict(KINDS[kind])
    if gradient and kind != "external":
        attrs.update(GRADIENT)
        attrs["style"] += ",dashed"
        if kind == "constant":
            attrs["fillcolor"] = GRADIENT_CONSTANT_FILL
    return attrs


def dim(attrs):
    """Fade a node that is not on the highlighted path (keeps its colours, lighter)."""
    for key in ("fillcolor",):
        if attrs.get(key, "").startswith("#") and len(attrs[key]) == 7:
            attrs[key] += "55"
    attrs["color"] = DIM_LINE
    attrs["fontcolor"] = DIM_TEXT
    return attrs


def dtype_suffix(dtype):
    """'' for the default float32, else a short name: ' f64', ' i64', ' bool'."""
    dtype = np.dtype(dtype)
    return "" if dtype == _FLOAT32 else " " + _DTYPE_SHORT.get(dtype.name, dtype.name)


def tensor_text(tensor):
    """An edge label: the shape, the dtype when not float32, the output index if several."""
    text = (fmt(tensor.shape) if tensor.shape else "scalar") + dtype_suffix(tensor.dtype)
    return f"[{tensor.index}] {text}" if len(tensor.node.outputs) > 1 else text


class HtmlLabel(str):
    """A Graphviz HTML-like label built here from escaped text; the DOT writer emits
    only these raw. Any other text, however it looks (``<b>``, ``<IMG SRC=...>``), is
    quoted, so user text (titles, group and node names) can never inject markup."""


def html_label(title, lines=(), note=None, bold=True, size=None):
    """A Graphviz HTML-like label: optional italic note, the title, small detail lines."""
    parts = []
    if note:
        parts.append(f'<FONT POINT-SIZE="8"><I>{_h(note)}</I></FONT>')
    text = _h(title) if title else "&nbsp;"
    if size:
        text = f'<FONT POINT-SIZE="{size}">{text}</FONT>'
    parts.append(f"<B>{text}</B>" if bold else text)
    parts.extend(f'<FONT POINT-SIZE="8">{_h(line)}</FONT>' for line in lines if line)
    return HtmlLabel("<" + "<BR/>".join(parts) + ">")


def _h(text):
    return html.escape(str(text), quote=True).replace("\n", " ")


def node_label(node):
    """The label of one node: its op and key attributes, names for sources."""
    kind = kind_of(node)
    out = node.outputs[0] if node.outputs else None
    if kind == "placeholder":
        return html_label(node.op.label(node), [fmt(out.shape) + dtype_suffix(out.dtype)])
    if kind == "variable":
        extra = [] if node.attrs.get("trainable", True) else ["frozen"]
        return html_label(node.op.label(node), [fmt(out.shape) + dtype_suffix(out.dtype)]
                          + extra)
    if kind == "constant":
        return html_label(node.op.label(node), bold=False, size=8)
    lines = str(node.op.label(node)).split("\n")
    last = node.name.rsplit("/", 1)[-1]
    named = not re.fullmatch(re.escape(node.op.name) + r"(_\d+)?", last)
    return html_label(lines[0], lines[1:], note=last if named else None)


def node_tooltip(node):
    outs = ", ".join(fmt(t.shape) + dtype_suffix(t.dtype) for t in node.outputs)
    grad = " (gradient)" if node.is_gradient else ""
    return f"{node.name}: {node.op.name}{grad}" + (f" -> {outs}" if outs else "")


def scope_label(name, members):
    types = []
    for n in members:
        if n.op.name not in types:
            types.append(n.op.name)
    shown = ", ".join(types[:3]) + (", ..." if len(types) > 3 else "")
    count = f"{len(members)} node{'s' if len(members) != 1 else ''}"
    return html_label(name.rsplit("/", 1)[-1], [count, shown])
