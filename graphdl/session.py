"""Session: runs fetches of a graph with feeds, holding variable values.

``Session(graph=None, backend="default", seed=None)`` (the default backend is
``$GRAPHDL_BACKEND``, else "auto": interpreted first, compiled once a program
repeats); ``sess.run(fetches, feed_dict)`` where ``fetches`` is a tensor, an op
node, a tensor name, or a list/tuple/dict nesting of those. Programs are compiled
once per (fetches, feeds) signature and cached, so a training loop compiles its step
once.
"""

import threading

import numpy as np

from .backends import get_backend
from .backends.base import RunContext
from .errors import FeedError, GraphError, NotInGraphError
from .graph import Graph, Node, Tensor, get_default_graph
from .numerics import find_origin, non_finite
from .program import Program
from .shapes import compatible, fmt


class Session:
    """Executes parts of a graph; owns the values of its variables.

    ``seed`` seeds variable initializers and random ops (dropout); when None
    the graph's seed is used, and when that is None too, fresh entropy.
    ``check_numerics=True``: a run whose fetches or variable updates hold NaN or
    inf raises :class:`~graphdl.errors.NumericsError` naming the node where it first
    appeared, its op, its inputs and the line that built it (see graphdl/numerics.py);
    the run changes no variable.

    A run is a transaction (a run that raises changes no variable), runs on one
    Session are serialized (safe to share between threads), and fetched arrays are
    the caller's own (never views of variables, feeds or constants). See
    docs/reliability.md.
    """

    def __init__(self, graph=None, backend="default", seed=None, check_numerics=False):
        if graph is not None and not isinstance(graph, Graph):
            raise GraphError(f"Session: graph must be a gd.Graph or None, got "
                             f"{type(graph).__name__} {graph!r}")
        self.graph = graph if graph is not None else get_default_graph()
        if backend is None or not (isinstance(backend, str) or hasattr(backend, "compile")):
            raise GraphError(f"Session: backend must be a backend name such as 'numpy' or a "
                             f"backend object, got {backend!r}")
        self.backend = get_backend(backend)
        seed = check_seed(self.graph.seed if seed is None else seed, "Session")
        self._ctx = RunContext(seed)
        self.check_numerics = bool(check_numerics)
        self._programs = {}
        self._last = None  # the last run's signature (_LastCall): a loop repeats it
        self._closed = False
        # one run at a time: concurrent runs would interleave reads and commits
        self._lock = threading.Lock()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def close(self):
        """Release cached programs and variable values."""
        with self._lock:
            self._programs.clear()
            self._last = None
            self._ctx.values.clear()
            self._ctx.private.clear()
            self._closed = True

    def run(self, fetches, feed_dict=None):
        """Evaluate ``fetches`` (same nesting comes back) given ``feed_dict``.

        Variables are initialized on first use; assignment ops update them.
        Errors: a missing, misshaped or mistyped feed, or a tensor from
        another graph, raises a :class:`~graphdl.errors.GraphError` subclass.
        """
        with self._lock:
            if self._closed:
                raise GraphError("this Session is closed")
            last = self._last
            if last is not None and last.matches(fetches, feed_dict):
                structure, compiled = last.structure, last.compiled
                feeds = {} if feed_dict is None else \
                    {t: check_feed(t, v) for t, v in feed_dict.items()}
            else:
                flat = []
                structure = self._flatten(fetches, flat)
                feeds = self._check_feeds({} if feed_dict is None else feed_dict)
                key = (tuple(map(id, flat)), tuple(sorted(map(id, feeds))))
                compiled = self._programs.get(key)
                if compiled is None:
                    program = Program(flat, sorted(feeds, key=lambda t: (t.node.id, t.index)))
                    draws = any(n.op.random for n in program.nodes)
                    compiled = (program, self.backend.compile(program), draws)
                    self._programs[key] = compiled
                self._last = last = _LastCall.of(fetches, feed_dict, structure, compiled)
            program, run, draws = compiled
            ctx = self._ctx
            ctx.begin(draws, in_place=not self.check_numerics)
            try:
                values = run(ctx, feeds)
                if self.check_numerics:
                    self._check_numerics(program, feeds, values)
                if getattr(run, "owns_results", False):
                    ctx.commit()  # the backend guarantees what _AliasGuard checks
                else:
                    guard = _AliasGuard(feeds.values(), ctx.values, ctx.staged())
                    values = [guard.owned(v) for v in values]
                    ctx.commit(guard.stored)
            except BaseException:
                ctx.rollback()  # a failed run changes no variable
                raise
        if last is not None:
            return last.rebuild(values)
        return self._unflatten(structure, iter(values))

    def _check_numerics(self, program, feeds, values):
        """Raise NumericsError naming the origin when a fetch or update is not finite."""
        bad_updates = self._ctx.staged_non_finite()  # device-staged ones included
        if not non_finite(values) and not bad_updates:
            return
        self._ctx.rollback()  # replay from the state the run started from
        self._ctx.begin()
        raise find_origin(program, self._ctx, feeds, bad_updates)

    # -- fetches ----------------------------------------------------------------
    def _resolve(self, item):
        if isinstance(item, str):
            if ":" in item:
                return self.graph.get_tensor(item)
            node = self.graph.get_node(item)  # an op with no outputs (a group) fetches None
            return node.outputs[0] if node.outputs else node
        if isinstance(item, (Tensor, Node)):
            if item.graph is not self.graph:
                raise NotInGraphError(f"cannot fetch {item.name!r}: it belongs to another "
                                      "graph than this session's")
            return item
        raise GraphError(f"cannot fetch {item!r} (type {type(item).__name__}); fetch "
                         "tensors, ops, names, or lists/tuples/dicts of them")

    def _flatten(self, fetches, flat):
        if isinstance(fetches, dict):
            return {k: self._flatten(v, flat) for k, v in fetches.items()}
        if isinstance(fetches, (list, tuple)):
            return _rebuild(fetches, [self._flatten(v, flat) for v in fetches])
        flat.append(self._resolve(fetches))
        return None

    def _unflatten(self, structure, values):
        if isinstance(structure, dict):
            return {k: self._unflatten(v, values) for k, v in structure.items()}
        if isinstance(structure, (list, tuple)):
            return _rebuild(structure, [self._unflatten(v, values) for v in structure])
        return next(values)

    # -- feeds ------------------------------------------------------------------
    def _check_feeds(self, feed_dict):
        if not isinstance(feed_dict, dict):
            raise FeedError(f"feed_dict must be a dict mapping tensors (or names) to values, "
                            f"got {type(feed_dict).__name__}; e.g. {{x: batch}}")
        checked = {}
        for key, value in feed_dict.items():
            t = self._resolve(key)
            if not isinstance(t, Tensor):
                raise FeedError(f"cannot feed op {t.name!r}: feed tensors")
            checked[t] = check_feed(t, value)
        return checked


class _LastCall:
    """What a run resolved from its arguments, kept for the next run with the same
    ones: a training loop calls ``sess.run([loss, train], {x: xb, y: yb})`` with the
    same fetch objects and feed keys each step, and resolving them again (nesting,
    names, graph membership, the program's key) was a third of the Python time of a
    run. Only plain signatures qualify: ``fetches`` a Tensor or Node, or a list or
    tuple of them; ``feed_dict`` None or a dict keyed by Tensors. Fetches are compared
    by identity and the objects are held, so an id cannot be reused by a new object;
    feed values are still checked (dtype, shape) on every run."""

    def __init__(self, kind, items, feed_keys, structure, compiled):
        self.kind, self.items, self.feed_keys = kind, items, feed_keys
        self.structure, self.compiled = structure, compiled

    @classmethod
    def of(cls, fetches, feed_dict, structure, compiled):
        """The signature of a run, or None when it does not qualify."""
        kind = type(fetches)
        items = tuple(fetches) if kind in (list, tuple) else (fetches,)
        if not all(type(f) is Tensor or isinstance(f, (Tensor, Node)) for f in items):
            return None
        if feed_dict is None:
            return cls(kind, items, None, structure, compiled)
        if type(feed_dict) is not dict or \
                not all(isinstance(k, Tensor) for k in feed_dict):
            return None
        return cls(kind, items, frozenset(feed_dict), structure, compiled)

    def rebuild(self, values):
        """The fetched values in the shape of ``fetches``."""
        if self.kind is list:
            return list(values)
        if self.kind is tuple:
            return tuple(values)
        return values[0]

    def matches(self, fetches, feed_dict):
        if type(fetches) is not self.kind:
            return False
        if self.kind is list or self.kind is tuple:
            if len(fetches) != len(self.items) or \
                    any(a is not b for a, b in zip(fetches, self.items)):
                return False
        elif fetches is not self.items[0]:
            return False
        if feed_dict is None or self.feed_keys is None:
            return feed_dict is None and self.feed_keys is None
        return type(feed_dict) is dict and len(feed_dict) == len(self.feed_keys) and \
            all(k in self.feed_keys for k in feed_dict)


def _root(array):
    """The object that owns ``array``'s memory (the end of its chain of bases)."""
    while isinstance(array, np.ndarray) and array.base is not None:
        array = array.base
    return array


class _AliasGuard:
    """Copies exactly the arrays that would otherwise share memory with what they must
    not: fetches with feeds, variable values, constants (read-only) or each other;
    stored values with feeds (the caller may reuse its feed arrays)."""

    def __init__(self, feeds, stored, staged):
        self.feed_roots = {id(_root(a)) for a in feeds}
        # what the variables will hold after the commit: staged values, else stored ones
        self.state_roots = {id(_root(a)) for v, a in stored.items() if v not in staged}
        self.state_roots.update(id(_root(a)) for a in staged.values())
        self.fetch_roots = set()

    def owned(self, value):
        """``value`` as an array the caller owns (None stays None)."""
        if value is None:
            return None
        if not isinstance(value, np.ndarray):  # a NumPy scalar from a backend: an array
            return np.array(value)
        root = id(_root(value))
        if (not value.flags.writeable or root in self.feed_roots or root in self.state_roots
                or root in self.fetch_roots):
            value = value.copy()
            root = id(value)
        self.fetch_roots.add(root)
        return value

    def stored(self, value):
        """``value`` as a variable's new value that no feed shares."""
        return value.copy() if id(_root(value)) in self.feed_roots else value


def _rebuild(like, items):
    """A list/tuple/namedtuple of the same type as ``like`` holding ``items``."""
    if hasattr(like, "_fields"):  # namedtuple: fields are positional arguments
        return type(like)(*items)
    return type(like)(items)


def check_seed(seed, who):
    """``seed`` if it is None or a non-negative int, else a GraphError naming ``who``."""
    if seed is None:
        return None
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0:
        raise GraphError(f"{who}: seed must be a non-negative int or None, got {seed!r}")
    return int(seed)


def check_feed(t, value):
    """A feed value as an array of t's dtype, or a FeedError naming t and the mismatch."""
    if type(value) is np.ndarray and value.dtype == t.dtype and \
            compatible(t.shape, value.shape):
        return value  # the usual case (a batch array of the right type), checked cheaply
    what = "placeholder" if t.node.op.source == "feed" else "tensor"
    try:
        arr = np.asarray(value)
    except ValueError as exc:  # a ragged nested list
        raise FeedError(f"feed for {what} {t.name!r}: the value is not a rectangular array "
                        f"(rows of different lengths?): {exc}") from None
    if arr.dtype == object:
        raise FeedError(f"feed for {what} {t.name!r}: cannot convert {type(value).__name__} "
                        "to an array")
    if arr.dtype != t.dtype:
        if arr.dtype.kind in "iu" and t.dtype.kind in "iu":
            _check_int_range(what, t, arr)  # any integers that fit, signed or not
        elif not np.can_cast(arr.dtype, t.dtype, casting="same_kind") or \
                (arr.dtype.kind == "f" and t.dtype.kind in "iub"):
            raise FeedError(f"feed for {what} {t.name!r}: expected dtype {t.dtype}, given "
                            f"{arr.dtype} (which does not convert safely)")
        arr = arr.astype(t.dtype)
    if not compatible(t.shape, arr.shape):
        raise FeedError(f"feed for {what} {t.name!r}: expected shape {fmt(t.shape)}, given "
                        f"{fmt(arr.shape)}")
    return arr


def _check_int_range(what, t, arr):
    """Integers that do not fit t's dtype would wrap around silently in astype."""
    if not arr.size:
        return
    info = np.iinfo(t.dtype)
    lo, hi = arr.min(), arr.max()
    if int(lo) < info.min or int(hi) > info.max:
        bad = lo if int(lo) < info.min else hi
        raise FeedError(f"feed for {what} {t.name!r}: value {int(bad)} is out of the range "
                        f"of {t.dtype} [{info.min}, {info.max}]")
