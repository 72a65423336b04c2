"""The one exception family graphdl raises for user mistakes.

Every error a user can cause (a bad shape at build time, a wrong feed at run time,
differentiating something that has no gradient) is a :class:`GraphError`, so
``except gd.GraphError`` catches them all. The subclasses also derive from the
matching built-in exception (``ValueError``, ``TypeError``, ``KeyError``) so code
written against NumPy habits keeps working.
"""


class GraphError(Exception):
    """Base class of every error graphdl raises because of how it was used."""


class ShapeError(GraphError, ValueError):
    """Incompatible shapes (names the op and its inputs): at graph-build time, or at run
    time when dimensions unknown (None) at build time turn out not to fit."""


class DTypeError(GraphError, TypeError):
    """Incompatible or unsupported dtypes at graph-build time."""


class FeedError(GraphError, ValueError):
    """A missing feed, or a feed of the wrong shape or dtype, at run time."""


class NotInGraphError(GraphError, KeyError):
    """A fetched or fed tensor that does not belong to the session's graph."""

    def __str__(self):  # KeyError would otherwise print the repr of the message
        return str(self.args[0]) if self.args else ""


class NotDifferentiableError(GraphError):
    """A gradient was asked through an op that has none (argmax, comparisons...)."""


class RenderError(GraphError):
    """A picture could not be made: bad options, or Graphviz's ``dot`` failed."""


class GraphvizNotFoundError(RenderError, FileNotFoundError):
    """The Graphviz ``dot`` program is not installed (``format="dot"`` still works)."""


class ExecutionError(GraphError, ValueError):
    """An op failed at run time on the values it was given (not on their shapes), e.g.
    a label out of range; names the node and its inputs."""


class OutOfMemoryError(GraphError, MemoryError):
    """A value too big to allocate: names the node, the shape and the bytes needed."""


class NumericsError(GraphError, FloatingPointError):
    """``Session(check_numerics=True)``: a node produced NaN or inf; names the first such
    node, its op, its inputs and where in the user's code it was built."""
