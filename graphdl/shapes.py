"""Static shapes: tuples of ints where ``None`` is a dimension known only at run time."""

import operator

from .errors import ShapeError


def as_shape(shape) -> tuple:
    """Normalize a user shape (int, list, tuple; None entries allowed)."""
    if shape is None:
        raise ShapeError("a shape is required (use None for unknown dimensions)")
    if isinstance(shape, int):
        shape = (shape,)
    out = []
    for d in shape:
        if d is None:
            out.append(None)
        elif isinstance(d, (int,)) or hasattr(d, "__index__"):
            d = int(d)
            if d < 0:
                raise ShapeError(f"negative dimension {d} in shape {tuple(shape)}")
            out.append(d)
        else:
            raise ShapeError(f"bad dimension {d!r} in shape {shape!r}")
    return tuple(out)


def fmt(shape) -> str:
    """Render a shape the way error messages and pictures show it: (None, 10)."""
    return "(" + ", ".join("?" if d is None else str(d) for d in shape) + \
        ("," if len(shape) == 1 else "") + ")"


def broadcast_shapes(*shapes, op="broadcast", names=None):
    """NumPy broadcasting over static shapes; None broadcasts like an unknown size.

    Raises ShapeError naming the op and every input shape when two known
    dimensions differ and neither is 1.
    """
    rank = max((len(s) for s in shapes), default=0)
    result = []
    for axis in range(-rank, 0):
        dims = [s[axis] for s in shapes if len(s) >= -axis]
        known = {d for d in dims if d is not None and d != 1}
        if len(known) > 1:
            listed = ", ".join(
                f"{(names[i] + ' ') if names else ''}{fmt(s)}" for i, s in enumerate(shapes))
            raise ShapeError(f"{op}: shapes {listed} cannot be broadcast together "
                             f"(axis {axis}: sizes {sorted(known)})")
        if known:
            result.append(known.pop())
        elif any(d is None for d in dims):
            result.append(None)
        else:
            result.append(1)
    return tuple(result)


def num_elements(shape):
    """Number of elements, or None when some dimension is unknown."""
    n = 1
    for d in shape:
        if d is None:
            return None
        n *= d
    return n


def normalize_axis(axis, rank, op="op"):
    """Turn a possibly-negative axis into a non-negative one, checking its type and range."""
    if isinstance(axis, bool) or not hasattr(axis, "__index__"):
        # a float or None axis would otherwise pass the range check or fail in NumPy later
        raise ShapeError(f"{op}: axis must be an int, got {type(axis).__name__} {axis!r}")
    axis = operator.index(axis)
    if not -rank <= axis < max(rank, 1) or (rank == 0 and axis not in (0, -1)):
        raise ShapeError(f"{op}: axis {axis} is out of range for rank {rank}")
    return axis % rank if rank else 0


def normalize_axes(axis, rank, op="op"):
    """axis=None/int/tuple -> sorted tuple of non-negative axes (None = all)."""
    if axis is None:
        return tuple(range(rank))
    if not isinstance(axis, (tuple, list)):
        axis = (axis,)  # one axis; normalize_axis checks that it is an int
    axes = tuple(sorted({normalize_axis(a, rank, op) for a in axis}))
    if len(axes) != len(tuple(axis)):
        raise ShapeError(f"{op}: repeated axis in {axis}")
    return axes


def compatible(static, actual) -> bool:
    """Whether a concrete runtime shape fits a static shape with None entries."""
    return len(static) == len(actual) and all(
        s is None or s == a for s, a in zip(static, actual))
