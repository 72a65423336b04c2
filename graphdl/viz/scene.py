"""From the nodes to draw to a *scene*: boxes, nested clusters and edges.

The scene is plain data (no Graphviz yet), built in one place from the render
options, so each rule is easy to find:

* a graph node becomes a **box**; nodes in a name scope deeper than ``depth``
  merge into one box per scope (``collapsed``);
* name scopes become **clusters** (nested like the names); in the ``both`` view
  everything sits inside a ``forward`` or ``backward`` frame;
* ``groups`` (e.g. the fused kernels a compiler backend made) become clusters of
  their own, taking precedence over scopes;
* an input produced outside the picture (a forward value read by the backward
  view) becomes a small dotted **reference** box;
* **edges** carry the tensor's shape, and its dtype when not float32.
"""

import hashlib
from dataclasses import dataclass, field

from ..errors import RenderError
from ..graph import Node, Tensor, ancestors
from . import style
from .select import as_nodes, path_nodes, select


@dataclass
class Box:
    """One drawn node: a graph node, a collapsed scope, or a reference."""

    id: str
    attrs: dict
    cluster: tuple  # key of the innermost cluster holding it, () = top level
    members: list = field(default_factory=list)  # graph nodes behind the box
    gradient: bool = False
    kind: str = "op"


@dataclass
class Cluster:
    key: tuple
    attrs: dict


@dataclass
class Edge:
    src: str
    dst: str
    attrs: dict


@dataclass
class Scene:
    graph_attrs: dict
    boxes: dict  # id -> Box, in drawing order
    clusters: dict  # key -> Cluster
    edges: list
    legend: list  # (kind, gradient, text) entries to draw


#: above this many nodes, ``cross_links="auto"`` draws references instead of the
#: edges between forward pass, gradients and updates: they make dot take minutes
AUTO_LINKS_MAX_NODES = 200


def build_scene(what, view="all", depth=None, highlight=None, groups=None,
                edge_labels=True, legend=True, rankdir="TB", title=None,
                cross_links="auto"):
    """Everything ``render`` draws, as a :class:`Scene`."""
    graph, nodes = select(what, view)
    if cross_links not in ("auto", True, False):
        raise RenderError(f"render: cross_links must be 'auto', True or False, "
                          f"got {cross_links!r}")
    if cross_links == "auto":
        cross_links = len(nodes) <= AUTO_LINKS_MAX_NODES
    if depth is not None and (not isinstance(depth, int) or depth < 0):
        raise RenderError(f"render: depth must be a non-negative int or None, got {depth!r}")
    if rankdir not in ("TB", "LR", "BT", "RL"):
        raise RenderError(f"render: rankdir must be TB, LR, BT or RL, got {rankdir!r}")
    group_of = _groups(graph, groups)
    on_path = None
    ends = set()
    if isinstance(highlight, (Tensor, Node)):  # one tensor: everything it depends on
        ends = set(as_nodes(highlight, "highlight"))
        on_path = ancestors(ends)
    elif highlight is not None:
        if not isinstance(highlight, (tuple, list)) or len(highlight) != 2:
            raise RenderError("render: highlight must be a tensor or a pair "
                              "(from_tensor, to_tensor)")
        on_path = path_nodes(graph, *highlight)
        ends = {n for t in highlight for n in as_nodes(t, "highlight")}

    def part(node):
        return ("@backward" if node.is_gradient else "@forward",) if view == "both" else ()

    boxes, box_of = {}, {}
    for n in nodes:
        box = _box_for(n, part(n), group_of, depth, boxes)
        box.members.append(n)
        box_of[n] = box

    flows = {}  # (src box, dst box) -> [(tensor, consumer node)]: one edge per pair
    for n in nodes:
        dst = box_of[n]
        for t in n.inputs:
            src = box_of.get(t.node)
            if src is None or (view == "both" and part(t.node) != part(n)):
                src = _reference(t, src, part(n), boxes)
            elif not cross_links and _crosses(t.node, n):
                src = _reference(t, src, dst.cluster, boxes)  # beside the node reading it
            if src is not dst:
                flows.setdefault((src.id, dst.id), []).append((t, n))
    edges = [Edge(src, dst, _flow_attrs(uses, boxes[dst], edge_labels, on_path))
             for (src, dst), uses in flows.items()]
    for n in nodes:
        dst = box_of[n]
        for c in n.control_inputs:
            if c in box_of and box_of[c] is not dst:
                attrs = {"style": "dashed", "color": style.CONTROL_EDGE, "arrowhead": "odot"}
                if on_path is not None:
                    _highlight_edge(attrs, False)
                edges.append(Edge(box_of[c].id, dst.id, attrs))

    for box in boxes.values():
        _finish_box(box, on_path, ends)
    clusters = _clusters(boxes)
    graph_attrs = {"rankdir": rankdir, "fontname": style.FONT, "nodesep": "0.3",
                   "ranksep": "0.35", "newrank": "true"}
    if title:
        graph_attrs.update(label=title, labelloc="t", fontsize="14")
    # every gradient box but a collapsed scope is keyed by the one "gradient op" entry
    drawn = {(b.kind if b.kind in ("scope", "external") or not b.gradient else "op",
              b.gradient and b.kind != "external") for b in boxes.values()}
    entries = [e for e in style.LEGEND if e[:2] in drawn] if legend else []
    return Scene(graph_attrs, boxes, clusters, edges, entries)


def _crosses(producer, consumer):
    """An edge between the forward pass, the gradients and the variable updates: in
    big graphs these are long (a layer's gradient reads that layer's forward values;
    the updates read every variable and gradient), and long edges are what make
    dot's layout slow."""
    return (producer.is_gradient != consumer.is_gradient
            or (style.kind_of(consumer) == "state" and style.kind_of(producer) == "variable"))


def _flow_attrs(uses, dst, edge_labels, on_path):
    """The edge for the tensors flowing between two boxes: several tensors (between
    collapsed scopes) share one edge, since dot cannot merge labelled parallel edges."""
    tensors = list(dict.fromkeys(t for t, _ in uses))
    attrs = {"color": style.GRADIENT_EDGE if dst.gradient else style.EDGE}
    if edge_labels:
        attrs["label"] = (style.tensor_text(tensors[0]) if len(tensors) == 1
                          else f"{len(tensors)} tensors")
    if len(tensors) > 1:
        attrs["tooltip"] = ", ".join(f"{t.name} {style.tensor_text(t)}" for t in tensors)
        attrs["penwidth"] = "1.6"
    if on_path is not None:
        _highlight_edge(attrs, any(t.node in on_path and n in on_path for t, n in uses))
    return attrs


def _groups(graph, groups):
    """{node: group name} from ``groups`` (a dict name -> tensors, or a list of lists)."""
    if groups is None:
        return {}
    if not isinstance(groups, dict):
        groups = {f"group {i}": members for i, members in enumerate(groups)}
    group_of = {}
    for name, members in groups.items():
        for n in as_nodes(members, f"group {name!r}"):
            if n.graph is not graph:
                raise RenderError(f"render: group {name!r} holds {n.name!r} from another graph")
            if n in group_of and group_of[n] != name:
                raise RenderError(f"render: {n.name!r} is in two groups: "
                                  f"{group_of[n]!r} and {name!r}")
            group_of[n] = str(name)
    return group_of


def _box_for(node, prefix, group_of, depth, boxes):
    """The box ``node`` is drawn in (created on first use)."""
    if node in group_of:
        box = Box(f"n{node.id}", {}, prefix + ("@group:" + group_of[node],))
    else:
        parts = tuple(node.scope.split("/")) if node.scope else ()
        if depth is None or len(parts) <= depth:
            box = Box(f"n{node.id}", {}, prefix + parts)
        else:  # below the depth: one box for the whole scope
            scope = "/".join(parts[:depth + 1])
            key = f"{prefix}{scope}{node.is_gradient}"
            box = Box("s" + hashlib.sha1(key.encode()).hexdigest()[:10], {},
                      prefix + parts[:depth], kind="scope")
            box.attrs["_scope"] = scope
    box.gradient = node.is_gradient
    if box.kind != "scope":
        box.kind = style.kind_of(node)
    return boxes.setdefault(box.id, box)


def _reference(tensor, source, cluster, boxes):
    """A dotted box standing for a value drawn elsewhere (or not at all), placed in
    ``cluster``: one per tensor and cluster, or one per collapsed scope and cluster
    when ``source`` (the box the value is drawn in) is a collapsed scope."""
    where = hashlib.sha1("/".join(cluster).encode()).hexdigest()[:6] if cluster else ""
    if source is not None and source.kind == "scope":
        box_id = f"r{source.id}{where}"
        if box_id not in boxes:
            boxes[box_id] = Box(box_id, {"_scope_ref": source.attrs["_scope"]}, cluster, [],
                                kind="external")
        if tensor.node not in boxes[box_id].members:
            boxes[box_id].members.append(tensor.node)
        return boxes[box_id]
    box_id = f"x{tensor.node.id}_{tensor.index}{where}"
    if box_id not in boxes:
        boxes[box_id] = Box(box_id, {"_tensor": tensor}, cluster, [tensor.node],
                            kind="external")
    return boxes[box_id]


def _finish_box(box, on_path, ends=()):
    """Set the style and label of a box from its kind and members."""
    extra = box.attrs
    attrs = style.node_attrs(box.kind, box.gradient)
    # SVG element ids name the graph node, so pages and tests can find it
    if box.kind == "scope":
        # forward and gradient nodes of one scope collapse into two boxes
        attrs["id"] = f"scope:{extra['_scope']}" + (":gradients" if box.gradient else "")
        attrs["label"] = style.scope_label(extra["_scope"], box.members)
        attrs["tooltip"] = f"{extra['_scope']}: {len(box.members)} nodes (collapsed)"
    elif box.kind == "external":
        where = _path_text(box.cluster)
        if "_tensor" in extra:
            t = extra["_tensor"]
            name, detail, prefix = t.name, style.tensor_text(t), "ref:"
        else:  # values from a collapsed scope drawn elsewhere
            name, detail, prefix = extra["_scope_ref"], "collapsed scope", "refscope:"
        attrs["id"] = prefix + name + (f"@{where}" if where else "")
        attrs["label"] = style.html_label(name, [detail], bold=False)
        attrs["tooltip"] = f"{name}: drawn elsewhere or outside this view"
    else:
        node = box.members[0]
        attrs["id"] = f"node:{node.name}"
        attrs["label"] = style.node_label(node)
        attrs["tooltip"] = style.node_tooltip(node)
    if on_path is not None:
        if any(n in on_path for n in box.members):
            attrs.update(penwidth="2.5", color=style.HIGHLIGHT)
            if any(n in ends for n in box.members):  # the endpoints: a double border
                attrs["peripheries"] = "2"
        else:
            style.dim(attrs)
    box.attrs = attrs


def _path_text(key):
    """A cluster key as text for ids: ("@backward", "dense1") -> "backward/dense1"."""
    return "/".join(k.lstrip("@") for k in key)


def _highlight_edge(attrs, on):
    if on:
        attrs.update(color=style.HIGHLIGHT, penwidth="2.5", fontcolor=style.HIGHLIGHT)
    else:
        attrs.update(color=style.DIM_LINE, fontcolor=style.DIM_TEXT)


def _clusters(boxes):
    """Every cluster key used by a box (and their parents), with its style."""
    # in order of first use, parents first (forward frames before backward); per key,
    # whether every box inside (references aside) is a gradient box, in one pass
    keys = {}
    for box in boxes.values():
        for i in range(1, len(box.cluster) + 1):
            key = box.cluster[:i]
            if box.kind == "external":
                keys.setdefault(key, None)
            else:
                keys[key] = box.gradient and keys.get(key) is not False
    clusters = {}
    for key, all_gradient in keys.items():
        last = key[-1]
        if last in ("@forward", "@backward"):
            attrs = dict(style.PASS_CLUSTERS[last[1:]])
        elif last.startswith("@group:"):
            attrs = dict(style.GROUP_CLUSTER, label=last[len("@group:"):])
        else:
            attrs = dict(style.GRADIENT_CLUSTER if all_gradient else style.CLUSTER, label=last)
            attrs["tooltip"] = "/".join(k for k in key if not k.startswith("@"))
        attrs["id"] = "cluster:" + _path_text(key)
        clusters[key] = Cluster(key, attrs)
    return clusters
