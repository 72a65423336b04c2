"""Subgraph extraction and scheduling: the nodes one ``Session.run`` executes.

A :class:`Program` is what every backend compiles: the nodes needed for the
fetches (following data and control inputs, stopping at fed tensors), in an
order where every node comes after its inputs. Creation order is such an
order, and it also puts each variable read before the assignments that take
the variable as input, which gives ``Session.run`` its snapshot semantics.
"""

from .errors import FeedError
from .graph import Tensor
from .shapes import fmt


class Program:
    """Nodes to run, in order, for given fetches (tensors or nodes) and feeds."""

    def __init__(self, fetches, feeds):
        self.fetches = tuple(fetches)
        self.feeds = tuple(feeds)
        fed = set(self.feeds)
        needed = set()
        stack = [f.node if isinstance(f, Tensor) else f for f in self.fetches
                 if not (isinstance(f, Tensor) and f in fed)]
        while stack:
            node = stack.pop()
            if node in needed:
                continue
            needed.add(node)
            stack.extend(t.node for t in node.inputs if t not in fed)
            stack.extend(node.control_inputs)
        self.nodes = sorted(needed, key=lambda n: n.id)
        missing = [n for n in self.nodes if n.op.source == "feed"]
        if missing:
            listed = ", ".join(f"{n.name!r} {fmt(n.attrs['shape'])} {n.attrs['dtype']}"
                               for n in missing)
            raise FeedError(f"missing feed for placeholder(s): {listed}; pass them in "
                            "feed_dict")

    def __repr__(self):
        return f"<Program {len(self.nodes)} nodes, {len(self.fetches)} fetches>"
