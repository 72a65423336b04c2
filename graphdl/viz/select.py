"""Which nodes a picture shows: the targets, their ancestors, and the view.

Views:

* ``"all"``      — forward and gradient nodes in one picture, edges between them;
* ``"forward"``  — only the forward computation (nodes ``gd.gradients`` did not add);
* ``"backward"`` — only gradient nodes; forward values they read are drawn as
  small dotted references;
* ``"both"``     — the forward graph and the backward graph side by side, each
  in its own frame (the backward frame refers to forward values like ``backward``).
"""

from ..errors import GraphError, RenderError
from ..graph import Graph, Node, Tensor, ancestors, get_default_graph

VIEWS = ("all", "forward", "backward", "both")


def as_nodes(what, role):
    """The nodes behind a tensor, a node, or a list/tuple/set/dict of them."""
    if isinstance(what, Tensor):
        return [what.node]
    if isinstance(what, Node):
        return [what]
    if isinstance(what, dict):
        what = list(what.values())
    if isinstance(what, (list, tuple, set, frozenset)):
        nodes = [n for item in what for n in as_nodes(item, role)]
        if not nodes:
            raise RenderError(f"render: {role} is empty")
        return nodes
    raise RenderError(f"render: {role} must be a Tensor, a list of tensors or a Graph, "
                      f"got {type(what).__name__}")


def graph_and_roots(what):
    """(graph, root nodes or None for 'the whole graph')."""
    if what is None:
        what = get_default_graph()
    if isinstance(what, Graph):
        return what, None
    roots = as_nodes(what, "what")
    graph = roots[0].graph
    if any(n.graph is not graph for n in roots):
        raise GraphError("render: the tensors to draw belong to different graphs")
    return graph, roots


def descendants(graph, nodes):
    """``nodes`` and everything that depends on them (creation order is topological)."""
    seen = set(nodes)
    for n in graph.nodes:
        if n not in seen and (any(t.node in seen for t in n.inputs)
                              or any(c in seen for c in n.control_inputs)):
            seen.add(n)
    return seen


def select(what, view="all"):
    """(graph, nodes to draw in creation order) for ``what`` seen in ``view``."""
    if view not in VIEWS:
        raise RenderError(f"render: unknown view {view!r}; choose one of {', '.join(VIEWS)}")
    graph, roots = graph_and_roots(what)
    if roots is None:
        nodes = set(graph.nodes)
    else:
        nodes = ancestors(roots)
        if view in ("backward", "both") and not any(n.is_gradient for n in nodes):
            # a forward target (a loss): show the gradients taken of it (or of its parts)
            grads = {n for n in graph.nodes if n.is_gradient
                     and all(y.node in nodes for y in n.gradient_of)}
            nodes |= ancestors(grads)
    if view == "forward":
        nodes = {n for n in nodes if not n.is_gradient}
    elif view == "backward":
        nodes = {n for n in nodes if n.is_gradient}
        if not nodes:
            raise RenderError("render: nothing to draw in the backward view: no gradient "
                              "nodes here (call gd.gradients first)")
    if not nodes:
        raise RenderError("render: the graph is empty")
    return graph, sorted(nodes, key=lambda n: n.id)


def path_nodes(graph, start, end):
    """Nodes on some path from ``start`` to ``end`` (either direction), or an error."""
    a, b = as_nodes(start, "highlight start"), as_nodes(end, "highlight end")
    for src, dst in ((a, b), (b, a)):
        on_path = descendants(graph, src) & ancestors(dst)
        if on_path:
            return on_path
    names = ", ".join(n.name for n in a), ", ".join(n.name for n in b)
    raise RenderError(f"render: no path between {names[0]!r} and {names[1]!r} to highlight")
