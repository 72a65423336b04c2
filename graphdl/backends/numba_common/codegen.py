"""Backend-neutral helpers for generating Python source that Numba compiles.

* :class:`Source` collects indented lines and hands out fresh local names;
* :func:`literal` renders a scalar constant exactly (``np.float32(0.1)`` keeps the
  float32 value bit for bit);
* :class:`ScalarFunctions` renders an elementwise op's ``scalar`` rule as an
  expression on input expressions. ``OpDef.scalar`` is either a plain Python
  function of the scalar inputs (attrs as keyword arguments) whose source is copied
  into the generated module, or a format template (``"exp({0})"``) of the older form.
"""

import inspect
import math
import textwrap
from contextlib import contextmanager

import numpy as np

from .inline import inliner


class Source:
    """Lines of Python source with indentation and fresh names."""

    def __init__(self):
        self.lines = []
        self._depth = 0
        self._counts = {}

    def line(self, text=""):
        self.lines.append("    " * self._depth + text if text else "")
        return len(self.lines)  # 1-based number of the line just written

    @contextmanager
    def block(self, header):
        self.line(header)
        self._depth += 1
        try:
            yield
        finally:
            self._depth -= 1

    def fresh(self, prefix):
        n = self._counts.get(prefix, 0)
        self._counts[prefix] = n + 1
        return f"{prefix}{n}"

    def text(self):
        return "\n".join(self.lines) + "\n"


def dtype_name(dtype):
    """The NumPy scalar type as written in generated code: ``np.float32``, ``np.bool_``."""
    dtype = np.dtype(dtype)
    return "np.bool_" if dtype == np.bool_ else f"np.{dtype.name}"


def literal(value, dtype=None):
    """Source text for one scalar ``value`` of ``dtype``, exact for every float."""
    dtype = np.dtype(dtype if dtype is not None else np.asarray(value).dtype)
    value = np.asarray(value, dtype=dtype).item()
    if dtype == np.bool_:
        return "True" if value else "False"
    if dtype.kind == "f":
        if math.isnan(value):
            text = "np.nan"
        elif math.isinf(value):
            text = "np.inf" if value > 0 else "-np.inf"
        else:
            text = repr(float(value))
        return f"{dtype_name(dtype)}({text})"
    return f"{dtype_name(dtype)}({int(value)})"


def attr_text(value):
    """An op attribute as a source literal (dtypes, numbers, bools, tuples)."""
    if isinstance(value, np.dtype):
        return dtype_name(value)
    if isinstance(value, (bool, np.bool_)):
        return repr(bool(value))
    if isinstance(value, (int, np.integer)):
        return repr(int(value))
    if isinstance(value, (float, np.floating)):
        return literal(value, np.float64)
    if isinstance(value, tuple):
        return "(" + "".join(attr_text(v) + ", " for v in value) + ")"
    if isinstance(value, str):
        return repr(value)
    raise TypeError(f"cannot write attribute {value!r} into generated code")


class ScalarFunctions:
    """Renders elementwise ops' scalar functions; collects the helpers they need.

    ``OpDef.scalar`` is a plain Python function (graphdl/ops/scalars.py states the
    contract). The generated module imports it by module and name and wraps it with
    ``jit`` (e.g. ``njit(error_model="numpy")`` on the CPU, ``cuda.jit(device=True)``
    for CUDA); a function that cannot be imported by name (a closure) has its source
    copied in instead. Only the attrs the function names are passed, as keywords.
    The older format-template form (``"exp({0})"``) is still rendered inline.

    ``inline_into`` (an object with ``line(text)`` and ``fresh(prefix)``, the CPU
    codegen context) copies the functions' bodies into the generated code instead
    (:mod:`.inline`: no separate compile per function and signature); a function that
    cannot be inlined is still called through ``jit``.
    """

    def __init__(self, jit, inline_into=None):
        self.jit = jit
        self.inline_into = inline_into
        self._helpers = {}  # function -> helper name
        self._inlined = set()
        self._lines = []

    def expression(self, op, args, attrs):
        """The scalar expression of ``op`` applied to ``args`` (source expressions)."""
        rule = op.scalar
        if rule is None:
            raise TypeError(f"op {op.name!r} has no scalar rule")
        if isinstance(rule, str):
            named = {k: attr_text(v) for k, v in attrs.items() if not k.startswith("_")}
            return "(" + rule.format(*[f"({a})" for a in args], **named) + ")"
        params = inspect.signature(rule).parameters
        if self.inline_into is not None:
            code = inliner(rule)
            attr_params = list(params)[len(args):]
            if code is not None and all(k in attrs for k in attr_params):
                self._inlined.add(rule)
                return code.render(list(args) + [attr_text(attrs[k]) for k in attr_params],
                                   self.inline_into.line, self.inline_into.fresh)
        name = self._helper(op, rule)
        kwargs = "".join(f", {k}={attr_text(v)}" for k, v in attrs.items() if k in params)
        return f"{name}({', '.join(args)}{kwargs})"

    def _helper(self, op, fn):
        if fn in self._helpers:
            return self._helpers[fn]
        name = f"_{op.name}_{len(self._helpers)}"
        module, qualname = getattr(fn, "__module__", None), fn.__qualname__
        if module and "<" not in qualname and "." not in qualname:
            self._lines.append(f"from {module} import {qualname} as {name}_py")
        else:
            src = textwrap.dedent(inspect.getsource(fn))
            body = src[src.index("def "):]
            self._lines += ("def " + name + "_py" + body[body.index("("):]).splitlines()
        self._lines.append(f"{name} = {self.jit}({name}_py)")
        self._helpers[fn] = name
        return name

    def prelude(self):
        """Source lines defining the helpers (module level of the generated code)."""
        return "\n".join(self._lines)

    def modules(self):
        """Source files of the scalar functions used (their hash salts cache keys)."""
        files = []
        for fn in [*self._helpers, *self._inlined]:
            try:
                files.append(inspect.getsourcefile(fn))
            except TypeError:
                pass
        return sorted({f for f in files if f})


__all__ = ["ScalarFunctions", "Source", "attr_text", "dtype_name", "literal"]
