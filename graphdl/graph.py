"""The graph IR: Graph owns Nodes; a Node's outputs are Tensors.

A :class:`Tensor` is a symbolic value with a static shape (``None`` for a
dimension known only at run time) and a dtype. A :class:`Node` is one op
application: its op definition, its attributes and its input tensors. Nodes are
never mutated after construction; passes and ``gradients`` only add nodes.
"""

import contextlib
import itertools
import math
import os
import re
import sys
import threading

import numpy as np

from . import shapes as _shapes
from .errors import GraphError, ShapeError


class Tensor:
    """A symbolic value: output ``index`` of ``node``.

    Python operators build graph nodes: ``+ - * / ** @``, unary ``-``,
    ``< <= > >=`` and indexing. ``==`` is identity (tensors are dict keys in
    ``feed_dict``); use :func:`graphdl.equal` for elementwise equality.
    """

    __array_priority__ = 1000  # make ``ndarray + tensor`` call our __radd__

    def __init__(self, node, index, shape, dtype):
        self.node = node
        self.index = index
        self.shape = tuple(shape)
        self.dtype = np.dtype(dtype)

    # -- description -------------------------------------------------------
    @property
    def graph(self):
        return self.node.graph

    @property
    def name(self):
        n = self.node.name
        return n if len(self.node.outputs) == 1 else f"{n}:{self.index}"

    @property
    def op(self):
        """The op type name of the node producing this tensor."""
        return self.node.op.name

    @property
    def ndim(self):
        return len(self.shape)

    def __repr__(self):
        return f"<Tensor {self.name!r} shape={_shapes.fmt(self.shape)} dtype={self.dtype}>"

    __hash__ = object.__hash__

    def __eq__(self, other):  # identity, so tensors work as feed_dict keys
        return self is other

    def __ne__(self, other):
        return self is not other

    def __bool__(self):
        raise GraphError(f"the truth value of symbolic tensor {self.name!r} is unknown at "
                         "graph-build time; use gd.where for data-dependent choices")

    def __len__(self):
        if not self.shape or self.shape[0] is None:
            raise GraphError(f"len() of tensor {self.name!r} with shape "
                             f"{_shapes.fmt(self.shape)} is not known statically")
        return self.shape[0]

    def __iter__(self):
        raise GraphError(f"tensor {self.name!r} is not iterable; use gd.split or indexing")

    # Operator methods are attached by graphdl.ops.operators, which owns the op
    # definitions they map to (keeps graph.py free of op knowledge).


_PACKAGE_DIR = os.path.dirname(os.path.abspath(__file__)) + os.sep


def _user_frame():
    """The innermost caller outside graphdl: where in the user's code a node was built.

    Walks frames (no traceback objects, no source lines read): about a microsecond.
    """
    frame = sys._getframe(2)
    while frame is not None and frame.f_code.co_filename.startswith(_PACKAGE_DIR):
        frame = frame.f_back
    if frame is None:
        return None
    return (frame.f_code.co_filename, frame.f_lineno, frame.f_code.co_name)


def describe_site(site):
    """'model.py:12 in build' for a node's ``created_at`` (or 'unknown')."""
    if site is None:
        return "unknown (built inside graphdl)"
    filename, line, func = site
    return f"{filename}:{line} in {func}"


class Node:
    """One op application in a graph. Build nodes with :meth:`Graph.add_node`."""

    def __init__(self, graph, op, inputs, attrs, name, out_types, gradient_of, control_inputs,
                 make_output=None):
        self.graph = graph
        self.op = op
        self.inputs = tuple(inputs)
        self.attrs = dict(attrs)
        self.name = name
        self.scope = name.rsplit("/", 1)[0] if "/" in name else ""
        #: for nodes built by ``gd.gradients``: the ys being differentiated, else None
        self.gradient_of = gradient_of
        self.is_gradient = gradient_of is not None
        self.control_inputs = tuple(control_inputs)
        self.id = next(graph._ids)
        #: (file, line, function) of the user code that built this node (error messages)
        self.created_at = _user_frame()
        make_output = make_output or Tensor
        self.outputs = tuple(make_output(self, i, s, d) for i, (s, d) in enumerate(out_types))

    def __repr__(self):
        ins = ", ".join(t.name for t in self.inputs)
        return f"<Node {self.name!r} op={self.op.name} inputs=[{ins}]>"

    __hash__ = object.__hash__


_SCOPE_OK = re.compile(r"[A-Za-z0-9_.\-]*")  # used with fullmatch: no "\n" at the end


class Graph:
    """A container of nodes, name scopes and graph-wide settings.

    Most code uses the default graph; ``with gd.Graph().as_default():`` builds
    into a fresh one. Several threads may build into one graph (each in its own
    ``with graph.as_default():``): scopes and control dependencies are per thread.
    ``seed`` seeds random ops (dropout, random initializers) for sessions that do
    not pass their own.
    """

    def __init__(self, seed=None):
        if seed is not None and (isinstance(seed, bool) or not isinstance(
                seed, (int, np.integer)) or seed < 0):
            raise GraphError(f"Graph: seed must be a non-negative int or None, got {seed!r}")
        self.nodes = []
        self._ids = itertools.count()
        self._names = {}  # scoped base name -> next suffix to try
        self._taken = set()  # every name (node or scope) handed out
        # the stacks of `with` blocks being built belong to the thread that opened them
        self._building = _BuildingStacks()
        self._lock = threading.RLock()  # names and node ids are shared by all threads
        self.seed = seed

    def __repr__(self):
        return f"<Graph with {len(self.nodes)} nodes>"

    @property
    def _scope(self):
        return self._building.scope

    @_scope.setter
    def _scope(self, value):
        self._building.scope = value

    @property
    def _gradient_of(self):  # stack of the ys of the gradients() calls being built
        return self._building.gradient_of

    @property
    def _control_stack(self):
        return self._building.control

    # -- building ------------------------------------------------------------
    def add_node(self, op, inputs, attrs, out_types, name=None, control_inputs=(),
                 make_output=None):
        """Create and register a node; ``out_types`` is a list of (shape, dtype).

        ``make_output(node, index, shape, dtype)`` builds each output tensor (default
        :class:`Tensor`; ``gd.Variable`` makes itself the output of its read node).
        """
        for t in inputs:
            if not isinstance(t, Tensor):
                raise GraphError(f"{op.name}: input {t!r} is not a Tensor")
            if t.graph is not self:
                raise GraphError(f"{op.name}: input {t.name!r} belongs to another graph; "
                                 "build every tensor of a computation in one graph")
        try:
            hash(tuple(attrs.items()))
        except TypeError as exc:  # passes compare and deduplicate nodes by their attrs
            raise GraphError(f"{op.name}: node attributes must be hashable ({exc}); "
                             "store arrays as FrozenArray") from None
        for shape, dtype in out_types:
            _check_addressable(op, name, shape, dtype)
        controls = tuple(control_inputs) + tuple(
            n for ctx in self._control_stack for n in ctx)
        with self._lock:  # a unique name, an id and a place in creation order, together
            full = self.unique_name(name or op.name)
            node = Node(self, op, inputs, attrs, full, out_types,
                        self._gradient_of[-1] if self._gradient_of else None, controls,
                        make_output)
            self.nodes.append(node)
        return node

    def unique_name(self, base):
        """Prefix with the current name scope and add a suffix if taken."""
        if not _SCOPE_OK.fullmatch(base.replace("/", "")):
            raise GraphError(f"invalid name {base!r}: use letters, digits, '_', '.', '-'")
        with self._lock:
            return self._unique(base)

    def _unique(self, base):
        scoped = "/".join(self._scope + [base])
        # every name ever handed out is taken, so "x_1" then "x", "x" gives x_1, x, x_2
        count = self._names.get(scoped, 0)
        name = scoped if count == 0 else f"{scoped}_{count}"
        while name in self._taken:
            count += 1
            name = f"{scoped}_{count}"
        self._names[scoped] = count + 1
        self._taken.add(name)
        return name

    @contextlib.contextmanager
    def name_scope(self, name):
        """Nodes created inside get names ``name/...`` (nestable)."""
        if not name or not _SCOPE_OK.fullmatch(name):
            raise GraphError(f"invalid name scope {name!r}")
        # a scope name used twice at the same level gets a suffix, like TensorFlow
        unique = self.unique_name(name).rsplit("/", 1)[-1]
        self._scope.append(unique)
        try:
            yield "/".join(self._scope)
        finally:
            self._scope.pop()

    @contextlib.contextmanager
    def enter_scope(self, path):
        """Re-enter the exact scope ``path`` ("a/b"), without making it unique.

        ``gradients`` uses this to file each gradient node under the forward
        node's scope (``gradients/dense1/...``), so pictures can cluster them.
        """
        saved = self._scope
        self._scope = [p for p in path.split("/") if p]
        try:
            yield path
        finally:
            self._scope = saved

    @contextlib.contextmanager
    def gradient_context(self, ys=()):
        """Nodes created inside are gradient (backward-pass) nodes of ``ys``."""
        self._gradient_of.append(tuple(ys))
        try:
            yield
        finally:
            self._gradient_of.pop()

    @contextlib.contextmanager
    def control_dependencies(self, nodes):
        """Nodes created inside run only after ``nodes`` (tensors or nodes)."""
        self._control_stack.append(tuple(as_node(n) for n in nodes))
        try:
            yield
        finally:
            self._control_stack.pop()

    @contextlib.contextmanager
    def as_default(self):
        """Make this graph the default graph inside the ``with`` block."""
        _default.stack.append(self)
        try:
            yield self
        finally:
            _default.stack.pop()

    # -- queries -------------------------------------------------------------
    def get_node(self, name):
        for n in self.nodes:
            if n.name == name:
                return n
        raise GraphError(f"no node named {name!r} in this graph")

    def get_tensor(self, name):
        """The tensor called ``name`` ("x" or "x:1" for output 1 of node x)."""
        node_name, colon, idx = name.partition(":")
        if colon and not (idx.isdigit() and idx.isascii()):
            raise GraphError(f"invalid tensor name {name!r}: after ':' comes an output "
                             "index (e.g. 'split:1')")
        node = self.get_node(node_name)
        index = int(idx or 0)
        if index >= len(node.outputs):
            what = "no outputs (it is an op: fetch it by node)" if not node.outputs else \
                f"{len(node.outputs)} output{'s' if len(node.outputs) > 1 else ''}"
            raise GraphError(f"no tensor {name!r}: node {node_name!r} ({node.op.name}) has "
                             f"{what}")
        return node.outputs[index]

    def variables(self, trainable_only=False):
        """The graph's variables in creation order."""
        out = [n.outputs[0] for n in self.nodes if n.op.source == "variable"]
        if trainable_only:
            out = [v for v in out if v.trainable]
        return out

    def trainable_variables(self):
        return self.variables(trainable_only=True)

    def _repr_svg_(self):  # inline pictures in Jupyter; big graphs get a collapsed view
        from .viz import inline_svg  # noqa: PLC0415 (imported lazily: graph.py stays small)
        return inline_svg(self)


def _check_addressable(op, name, shape, dtype):
    """A static shape whose bytes exceed what any machine can address is a build-time
    ShapeError (NumPy would fail later with a less helpful message)."""
    if None in shape or not shape:
        return
    nbytes = math.prod(int(d) for d in shape) * np.dtype(dtype).itemsize
    if nbytes > np.iinfo(np.intp).max:
        raise ShapeError(f"{op.name}: node {name or op.name!r} would have shape "
                         f"{_shapes.fmt(shape)} {np.dtype(dtype)}, {nbytes:,} bytes: more "
                         "than any machine can address")


def ancestors(nodes, control=True):
    """``nodes`` and every node they depend on (through control inputs too, unless
    ``control=False``)."""
    seen, stack = set(), list(nodes)
    while stack:
        n = stack.pop()
        if n in seen:
            continue
        seen.add(n)
        stack.extend(t.node for t in n.inputs)
        if control:
            stack.extend(n.control_inputs)
    return seen


def as_node(x):
    """A Tensor's producing node, or the node itself."""
    if isinstance(x, Tensor):
        return x.node
    if isinstance(x, Node):
        return x
    raise GraphError(f"expected a Tensor or an op node, got {type(x).__name__}")


class _BuildingStacks(threading.local):
    """A graph's name scope, gradient and control-dependency stacks, one set per thread."""

    def __init__(self):
        self.scope = []
        self.gradient_of = []
        self.control = []


class _DefaultGraphs(threading.local):
    def __init__(self):
        self.stack = []
        self.base = Graph()


_default = _DefaultGraphs()


def get_default_graph():
    """The graph new nodes go into (innermost ``as_default`` or the thread's own one).

    The default graph is per thread: a new thread starts with its own empty default
    graph. To build one graph from several threads, enter ``with graph.as_default():``
    in each; name scopes, control dependencies and gradient contexts opened in one
    thread never apply to nodes another thread builds, and names stay unique.
    """
    return _default.stack[-1] if _default.stack else _default.base


def reset_default_graph():
    """Replace the global default graph by an empty one (outside any as_default)."""
    if _default.stack:
        raise GraphError("reset_default_graph() inside a `with graph.as_default()` block")
    _default.base = Graph()


def name_scope(name):
    """``with gd.name_scope("layer1"):`` prefixes names of nodes built inside."""
    return get_default_graph().name_scope(name)


def control_dependencies(nodes):
    """``with gd.control_dependencies([a]):`` ops built inside run after ``a``."""
    return get_default_graph().control_dependencies(nodes)
