"""Pictures of graphs: ``gd.render`` turns a graph (or the part of it some tensors
need) into Graphviz DOT and, with ``dot`` installed, SVG, PNG or PDF.

Modules: ``select`` (which nodes, which view), ``scene`` (boxes, clusters,
edges from the options), ``style`` (shapes, colours, labels), ``dot`` (DOT
syntax), ``output`` (running Graphviz, atomic writes). See docs/rendering.md.
"""

from .dot import to_dot
from .output import FORMATS, format_for, run_dot, write_atomic
from .scene import build_scene
from .select import VIEWS

__all__ = ["render", "to_svg", "VIEWS", "FORMATS"]

#: notebooks (``Graph._repr_svg_``) draw at most this many boxes: a 10k-node graph
#: would keep ``dot`` busy for minutes; bigger graphs get a collapsed view
INLINE_MAX_BOXES = 300


def render(what=None, path=None, format=None, view="all", depth=None, highlight=None,
           groups=None, edge_labels=True, legend=True, rankdir="TB", title=None,
           cross_links="auto"):
    """Draw a graph, or what some tensors depend on; return the DOT source.

    ``what``: a Tensor, a list/tuple/dict of tensors, or a Graph (default: the
    default graph). Tensors draw their ancestors only.

    ``path``: also write the picture there (atomically). ``format``: ``"svg"``,
    ``"png"``, ``"pdf"`` or ``"dot"``; by default taken from the suffix of
    ``path``. Every format but ``"dot"`` needs the Graphviz ``dot`` program and
    raises :class:`~graphdl.errors.GraphvizNotFoundError` without it.

    ``view``: ``"all"`` (forward and gradient nodes together), ``"forward"``,
    ``"backward"`` (gradient nodes alone), or ``"both"`` (forward and backward
    side by side). ``depth``: name scopes nested deeper than ``depth`` collapse
    into one box each (``depth=0``: every top-level scope is one box).
    ``highlight=(a, b)``: emphasise the nodes on the paths between tensors
    ``a`` and ``b`` (how a loss depends on a parameter), dimming the rest;
    ``highlight=t``: emphasise everything ``t`` depends on (how it is computed).
    ``groups``: ``{name: tensors}`` or a list of tensor lists to frame as
    clusters (how compiler backends show fused kernels). ``edge_labels``: label
    edges with shapes. ``legend``: add a key to the kinds of node drawn.
    ``rankdir``: ``"TB"`` (top to bottom), ``"LR"``, ``"BT"`` or ``"RL"``.
    ``title``: a caption above the picture. ``cross_links``: draw the edges
    between the forward pass, the gradients and the variable updates (True), or
    a small reference box beside each node that reads such a value (False: dot
    lays out big graphs far faster); ``"auto"`` draws them up to 200 nodes.
    Several tensors between the same two boxes share one edge ("3 tensors").
    """
    scene = build_scene(what, view=view, depth=depth, highlight=highlight, groups=groups,
                        edge_labels=edge_labels, legend=legend, rankdir=rankdir, title=title,
                        cross_links=cross_links)
    source = to_dot(scene)
    if path is not None:
        write_atomic(path, run_dot(source, format_for(path, format)))
    elif format is not None:
        format_for(None, format)  # still reject an unknown format
    return source


def to_svg(what=None, **options):
    """The SVG text of ``render(what, **options)`` (for notebooks and web pages)."""
    return run_dot(render(what, **options), "svg").decode("utf-8")


def inline_svg(graph):
    """The picture a notebook shows for ``graph``: all of it when small, else a view
    collapsed to fit ``INLINE_MAX_BOXES`` boxes, which says so in its title."""
    total = len(graph.nodes)
    if total <= INLINE_MAX_BOXES:
        return to_svg(graph)
    depth = _collapse_depth(graph.nodes, INLINE_MAX_BOXES)
    hint = "gd.render(graph, path='graph.svg') draws every node"
    if depth is not None:
        title = (f"collapsed view of {total} nodes: name scopes deeper than {depth} are one "
                 f"box each; {hint}")
        return to_svg(graph, depth=depth, title=title, cross_links=False)
    return run_dot(_summary_dot(graph, hint), "svg").decode("utf-8")


def _collapse_depth(nodes, limit):
    """The largest ``depth`` at which the picture has at most ``limit`` boxes, or None."""
    scopes = [tuple(n.scope.split("/")) if n.scope else () for n in nodes]
    deepest = max(len(p) for p in scopes)
    for depth in range(deepest, -1, -1):
        boxes = len({p[:depth + 1] if len(p) > depth else i for i, p in enumerate(scopes)})
        if boxes <= limit:
            return depth
    return None


def _summary_dot(graph, hint):
    """One box describing a graph too big to draw even collapsed (few scopes, many nodes)."""
    from collections import Counter  # noqa: PLC0415

    from .dot import quote  # noqa: PLC0415
    ops = Counter(n.op.name for n in graph.nodes).most_common(8)
    scopes = Counter(n.scope.split("/", 1)[0] for n in graph.nodes if n.scope)
    lines = [f"graph of {len(graph.nodes)} nodes: too big to draw inline, even collapsed",
             "most used ops: " + ", ".join(f"{name} x{count}" for name, count in ops)]
    if scopes:
        top = scopes.most_common(6)
        lines.append(f"{len(scopes)} top-level name scopes, e.g. " + ", ".join(
            f"{name}/ ({count} nodes)" for name, count in top)
            + f"; {sum(1 for n in graph.nodes if not n.scope)} nodes outside any scope")
    lines.append(hint)
    return ("digraph graphdl {\n  summary [shape=note, label=" + quote("\n".join(lines))
            + "];\n}\n")
