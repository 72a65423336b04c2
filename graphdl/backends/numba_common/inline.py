"""Scalar functions written into the generated code instead of called.

A call from a generated program to an ``njit`` scalar function makes Numba compile
that function separately — its own typing, lowering, LLVM module, machine code,
Python wrapper and cache file — once per argument types: the MLP training step
called 10 scalar functions with 34 signatures, about half of its cold compile. The
functions (graphdl/ops/scalars.py states their contract) are tiny, so this module
copies their bodies into the caller instead, and LLVM sees one function.

:func:`inliner` parses a function once. A body that is one ``return`` becomes an
expression; a body of ``if``/``return`` chains and local assignments becomes
statements assigning a fresh result name. Parameters become the call's argument
expressions (an argument that is not a plain name or number and is used more than
once, or only on some paths, is bound to a fresh local first, so it is evaluated
once and unconditionally, as in a call); locals get fresh
names; a module-level number the body reads (``_EXP_MAX``) becomes its literal.
Anything else — other statements, other globals, loops, a closure whose source
cannot be read — makes :func:`inliner` return None, and the caller falls back to
calling the function through its dispatcher.

Semantics are those of the call: Numba types the inlined expressions exactly as it
typed them inside the function (the same operations on the same argument types; a
result assigned in several branches unifies like several ``return``s do), and the
program is compiled with the same ``error_model``.
"""

import ast
import builtins
import inspect
import re
import textwrap
from functools import cache

#: builtins a body may call (they mean the same thing under Numba)
BUILTINS = frozenset({"abs", "min", "max", "float", "int", "bool", "round"})
_SIMPLE = re.compile(r"[A-Za-z_][A-Za-z0-9_]*|\d+(\.\d*)?([eE][-+]?\d+)?")
_ATOM = re.compile(r"[A-Za-z_][A-Za-z0-9_.]*(\[[^\[\]]*\]|\([^()]*\))?")


class Unsupported(Exception):
    """The function's body is outside what this module inlines."""


class Inliner:
    """One scalar function, parsed: renders calls to it as inline code."""

    def __init__(self, params, body):
        self.params = params  # parameter names, in order
        self.body = body      # statements, names still the function's own
        self.uses = {p: 0 for p in params}
        for node in ast.walk(ast.Module(body=body, type_ignores=[])):
            if isinstance(node, ast.Name) and node.id in self.uses:
                self.uses[node.id] += 1
        self.expression_only = len(body) == 1 and isinstance(body[0], ast.Return)
        self.lazy = _lazily_read(body)

    def render(self, args, line, fresh):
        """The call on ``args`` (source text, one per parameter, in order) as an
        expression; statements it needs are written with ``line(text)`` (at the
        caller's indentation; nested blocks are indented with four spaces), fresh
        names come from ``fresh(prefix)``."""
        names = {}
        for param, arg in zip(self.params, args, strict=True):
            simple = _SIMPLE.fullmatch(arg) is not None
            if simple or (self.expression_only and self.uses[param] <= 1
                          and param not in self.lazy):
                names[param] = arg if simple or _ATOM.fullmatch(arg) else f"({arg})"
            else:
                bound = fresh("s")
                line(f"{bound} = {arg}")
                names[param] = bound
        if self.expression_only:
            return "(" + _text(self.body[0].value, names) + ")"
        result = fresh("s")
        if not self._block(self.body, names, result, line, fresh, 0):
            raise Unsupported("a path through the body ends without a return")
        return result

    def _block(self, stmts, names, result, line, fresh, depth):
        """Write ``stmts``; True when every path through them assigned ``result``."""
        pad = "    " * depth
        for i, stmt in enumerate(stmts):
            if isinstance(stmt, ast.Return):
                line(f"{pad}{result} = {_text(stmt.value, names)}")
                return True
            if isinstance(stmt, ast.Assign):
                target = stmt.targets[0].id
                value = _text(stmt.value, names)
                names[target] = names.get(target) or fresh("s")
                line(f"{pad}{names[target]} = {value}")
                continue
            if isinstance(stmt, ast.Pass):
                continue
            # an if: (the validator admitted nothing else)
            line(f"{pad}if {_text(stmt.test, names)}:")
            if self._block(stmt.body, names, result, line, fresh, depth + 1):
                rest = list(stmt.orelse) + list(stmts[i + 1:])
                line(f"{pad}else:")
                return self._block(rest or [ast.Pass()], names, result, line, fresh,
                                   depth + 1)
            if _returns(stmt.body) or _returns(stmt.orelse):
                raise Unsupported("a return inside a branch that may fall through")
            if stmt.orelse:
                line(f"{pad}else:")
                self._block(stmt.orelse, names, result, line, fresh, depth + 1)
        return False


class _Rename(ast.NodeTransformer):
    def __init__(self, names):
        self.names = names

    def visit_Name(self, node):
        if node.id in self.names:
            return ast.Name(id=f"\0{node.id}\0", ctx=node.ctx)
        return node


def _text(expr, names):
    """Source of ``expr`` with its names replaced by ``names`` (source texts)."""
    text = ast.unparse(_Rename(names).visit(_copy(expr)))
    return re.sub("\0([A-Za-z_][A-Za-z0-9_]*)\0", lambda m: names[m.group(1)], text)


def _copy(node):
    return ast.parse(ast.unparse(node), mode="eval").body


def _lazily_read(body):
    """Names read only on some paths of an expression: in the arms of ``a if c else
    b`` and after the first operand of ``and``/``or``. An argument inlined there
    is evaluated only on that path, so an array read (``g[i] if m[i] else 0.0``)
    becomes a conditional load that LLVM cannot hoist: a branch, not a select,
    mispredicted on random masks (4.1 -> 1.0 ms for the relu gradient of the MNIST
    CNN's 64x32x26x26 activations, with the bias gradient's sum). Such arguments
    are bound to a local first, which is also the call's own evaluation order."""
    lazy = set()
    for node in ast.walk(ast.Module(body=body, type_ignores=[])):
        parts = []
        if isinstance(node, ast.IfExp):
            parts = [node.body, node.orelse]
        elif isinstance(node, ast.BoolOp):
            parts = node.values[1:]
        lazy.update(n.id for part in parts for n in ast.walk(part)
                    if isinstance(n, ast.Name))
    return lazy


def _returns(stmts):
    return any(isinstance(n, ast.Return)
               for s in stmts for n in ast.walk(s))


_EXPRESSIONS = (ast.BinOp, ast.UnaryOp, ast.BoolOp, ast.Compare, ast.IfExp, ast.Constant,
                ast.Call, ast.Attribute, ast.Name, ast.Load, ast.Store, ast.operator,
                ast.unaryop, ast.boolop, ast.cmpop, ast.keyword)


def _check(fn, fdef, body):
    """Validate ``body``; module-level numbers it reads are replaced by literals."""
    params = [a.arg for a in fdef.args.posonlyargs + fdef.args.args]
    locals_ = {t.id for s in body for n in ast.walk(s) if isinstance(n, ast.Assign)
               for t in n.targets if isinstance(t, ast.Name)}
    module_globals = getattr(fn, "__globals__", {})

    class Constants(ast.NodeTransformer):
        def visit_Name(self, node):
            name = node.id
            if name in params or name in locals_ or name == "math" or name in BUILTINS:
                return node
            value = module_globals.get(name, getattr(builtins, name, None))
            if isinstance(value, (bool, int, float)) and name not in vars(builtins):
                return ast.copy_location(ast.Constant(value), node)
            raise Unsupported(f"reads the global {name!r}")

    body = [Constants().visit(s) for s in body]
    if locals_ & set(params):
        raise Unsupported("assigns to a parameter")
    for stmt in body:
        for node in ast.walk(stmt):
            if isinstance(node, (ast.Return, ast.If, ast.Pass)):
                if isinstance(node, ast.Return) and node.value is None:
                    raise Unsupported("a bare return")
            elif isinstance(node, ast.Assign):
                if len(node.targets) != 1 or not isinstance(node.targets[0], ast.Name):
                    raise Unsupported("an assignment to something other than one name")
            elif isinstance(node, ast.Attribute):
                if not (isinstance(node.value, ast.Name) and node.value.id == "math"):
                    raise Unsupported("an attribute of something other than math")
            elif isinstance(node, ast.Call):
                f = node.func
                if not (isinstance(f, ast.Attribute) or
                        (isinstance(f, ast.Name) and f.id in BUILTINS)):
                    raise Unsupported("a call to something other than math.* or a builtin")
            elif not isinstance(node, _EXPRESSIONS):
                raise Unsupported(f"a {type(node).__name__}")
    return params, body


@cache
def inliner(fn):
    """An :class:`Inliner` for scalar function ``fn``, or None if it cannot be inlined."""
    try:
        source = textwrap.dedent(inspect.getsource(fn))
        fdef = ast.parse(source).body[0]
    except (OSError, TypeError, SyntaxError, IndexError):
        return None
    if not isinstance(fdef, ast.FunctionDef) or fdef.decorator_list:
        return None
    a = fdef.args
    if a.vararg or a.kwarg or a.kwonlyargs or a.defaults:
        return None
    body = list(fdef.body)
    if body and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant):
        body = body[1:]  # the docstring
    if not body:
        return None
    try:
        params, body = _check(fn, fdef, body)
        made = Inliner(params, body)
        made.render([f"a{i}" for i in range(len(params))], lambda text: None,
                    _counter())  # rejects shapes _block cannot write
    except Unsupported:
        return None
    return made


def _counter():
    n = iter(range(1 << 30))
    return lambda prefix: f"{prefix}{next(n)}"


__all__ = ["Inliner", "inliner"]
