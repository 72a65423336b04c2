"""Writing a :class:`~graphdl.viz.scene.Scene` as Graphviz DOT text.

Kept separate from the scene so the layout rules and the syntax do not mix:
this module only knows how to quote values and nest ``subgraph cluster_*``
blocks.
"""

from . import style

_MAX_INDENT = 16  # deeper clusters are not indented further (keeps the text linear)


def quote(value):
    """A DOT attribute value: labels built by ``style.html_label`` stay raw (their text
    is escaped there); everything else is quoted, whatever it looks like."""
    if isinstance(value, style.HtmlLabel):
        return str(value)
    text = str(value)
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n") + '"'


def attr_list(attrs):
    items = [f"{k}={quote(v)}" for k, v in attrs.items() if not k.startswith("_")]
    return f" [{', '.join(items)}]" if items else ""


def to_dot(scene, name="graphdl"):
    """DOT source for ``scene``."""
    lines = [f"digraph {quote(name)} {{"]
    lines += [f"  {k}={quote(v)};" for k, v in scene.graph_attrs.items()]
    lines.append(f"  node{attr_list({'fontname': style.FONT, 'fontsize': '10'})};")
    edge_defaults = {"fontname": style.FONT, "fontsize": "8", "arrowsize": "0.6",
                     "fontcolor": "#475569"}
    lines.append(f"  edge{attr_list(edge_defaults)};")

    children = {}
    for key in scene.clusters:
        children.setdefault(key[:-1], []).append(key)
    boxes_in = {}
    for box in scene.boxes.values():
        boxes_in.setdefault(box.cluster, []).append(box)
    ids = {key: i for i, key in enumerate(scene.clusters)}

    # an explicit stack, not recursion: name scopes may nest thousands deep
    stack = [("open", (), 1)]
    while stack:
        action, key, indent = stack.pop()
        pad = "  " * min(indent, _MAX_INDENT)
        if action == "close":
            lines.append(f"{pad}}}")
            continue
        if key:
            lines.append(f"{pad}subgraph cluster_{ids[key]} {{")
            lines.extend(f"{pad}  {k}={quote(v)};" for k, v in scene.clusters[key].attrs.items())
            stack.append(("close", key, indent))
            indent += 1
            pad = "  " * min(indent, _MAX_INDENT)
        for box in boxes_in.get(key, []):
            lines.append(f"{pad}{box.id}{attr_list(box.attrs)};")
        stack.extend(("open", child, indent) for child in reversed(children.get(key, [])))
    for edge in scene.edges:
        lines.append(f"  {edge.src} -> {edge.dst}{attr_list(edge.attrs)};")
    if scene.legend:
        lines += _legend(scene.legend, scene.graph_attrs.get("rankdir", "TB"))
    lines.append("}")
    return "\n".join(lines) + "\n"


def _legend(entries, rankdir):
    """A small framed row of sample nodes, one per kind drawn in the picture."""
    frame = {"label": "legend", "style": "rounded,dashed", "color": style.DIM_LINE,
             "fontsize": "9", "fontcolor": style.DIM_TEXT}
    lines = ["  subgraph cluster_legend {"]
    lines += [f"    {k}={quote(v)};" for k, v in frame.items()]
    ids = []
    for i, (kind, gradient, text) in enumerate(entries):
        attrs = style.node_attrs(kind, gradient)
        attrs.update(label=text, fontsize="8", tooltip=f"legend: {text}")
        ids.append(f"legend_{i}")
        lines.append(f"    legend_{i}{attr_list(attrs)};")
    if rankdir in ("TB", "BT"):  # one row; in LR/RL the invisible chain already is one
        lines.append("    {rank=same; " + "; ".join(ids) + ";}")
    lines += [f"    {a} -> {b} [style=invis];" for a, b in zip(ids, ids[1:])]
    lines.append("  }")
    return lines
