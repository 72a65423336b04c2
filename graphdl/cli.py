"""The ``graphdl`` command: ``graphdl render SCRIPT.py:FUNCTION -o out.svg`` draws a
graph; ``graphdl compile SCRIPT.py:FUNCTION --backend numba -o DIR`` writes the
program a compiled backend generates for it (source, pass log, kernels picture;
with ``--backend cuda``: kernel sources, lowered program and PTX).

``FUNCTION`` is called with no arguments while a fresh graph is the default
graph. It may return a Graph, a tensor, a list/tuple/dict of tensors (their
ancestors are drawn), a tuple holding a Graph (that graph is drawn), or
nothing (the graph it built is drawn). ``SCRIPT.py`` may also be an importable
module name (``mypkg.models:build``).
"""

import argparse
import contextlib
import importlib
import inspect
import os
import runpy
import sys
from pathlib import Path

from .errors import GraphError
from .graph import Graph, Node, Tensor
from .program import Program
from .viz import FORMATS, VIEWS, render
from .viz.select import graph_and_roots


def _parser():
    parser = argparse.ArgumentParser(prog="graphdl", description="graphdl command-line tools")
    sub = parser.add_subparsers(dest="command", required=True)
    r = sub.add_parser("render", help="draw the graph a Python function builds",
                       description="Draw the graph built by FUNCTION in SCRIPT.py (or in an "
                                   "importable module) with Graphviz.")
    r.add_argument("target", metavar="SCRIPT.py:FUNCTION",
                   help="a script path or module name, a colon, and a function name")
    r.add_argument("-o", "--output", metavar="PATH",
                   help="the file to write (format from its suffix); default: DOT on stdout")
    r.add_argument("--format", choices=FORMATS, help="svg, png, pdf or dot")
    r.add_argument("--view", choices=VIEWS, default="all",
                   help="which nodes: all (default), forward, backward, both (side by side)")
    r.add_argument("--backward", action="store_const", const="backward", dest="view",
                   help="same as --view backward: the gradient graph alone")
    r.add_argument("--depth", type=int, metavar="N",
                   help="collapse name scopes nested deeper than N into one box each")
    r.add_argument("--highlight", nargs="+", metavar="NAME",
                   help="two tensor names: emphasise the paths between them (e.g. b1 loss); "
                        "one name: emphasise everything it depends on")
    r.add_argument("--rankdir", choices=("TB", "LR", "BT", "RL"), default="TB")
    r.add_argument("--title", help="a caption above the picture")
    r.add_argument("--no-edge-labels", action="store_false", dest="edge_labels",
                   help="do not label edges with shapes")
    r.add_argument("--no-legend", action="store_false", dest="legend", help="omit the legend")
    r.add_argument("--cross-links", choices=("auto", "yes", "no"), default="auto",
                   help="draw edges between forward pass, gradients and updates (yes), or "
                        "reference boxes (no: fast for big graphs); auto: yes up to 200 nodes")
    c = sub.add_parser("compile", help="write the program a compiled backend generates",
                       description="Compile what FUNCTION in SCRIPT.py returns (tensors or "
                                   "ops to fetch; a Graph or nothing: its final nodes) and "
                                   "write program.py (the generated source), passes.log "
                                   "and kernels.svg (the fused kernels as clusters); with "
                                   "--backend cuda: program.py, lowered.txt and one .ptx "
                                   "per generated kernel (no GPU needed).")
    c.add_argument("target", metavar="SCRIPT.py:FUNCTION",
                   help="a script path or module name, a colon, and a function name")
    c.add_argument("--backend", default="numba",
                   help="the compiled backend: numba (default) or cuda")
    c.add_argument("-o", "--output", metavar="DIR", required=True,
                   help="the directory to write into (created if missing)")
    c.add_argument("--no-picture", action="store_false", dest="picture",
                   help="skip kernels.svg (no Graphviz needed)")
    return parser


def load_function(target):
    """The callable named by 'path/to/script.py:func' or 'package.module:func'."""
    source, sep, func_name = target.rpartition(":")
    if not sep or not source or not func_name:
        raise GraphError(f"expected SCRIPT.py:FUNCTION, got {target!r}")
    if source.endswith(".py") or Path(source).is_file():
        path = Path(source)
        if not path.is_file():
            raise GraphError(f"no such script: {source}")
        sys.path.insert(0, str(path.resolve().parent))  # as `python script.py` would
        namespace = runpy.run_path(str(path), run_name="__graphdl_render__")
    else:
        if "" not in sys.path and os.getcwd() not in sys.path:
            sys.path.insert(0, os.getcwd())  # as `python -m` would: modules here import
        try:
            namespace = vars(importlib.import_module(source))
        except ImportError as exc:
            raise GraphError(f"cannot import module {source!r}: {exc}") from exc
    func = namespace.get(func_name)
    if not callable(func):
        raise GraphError(f"{source} has no function {func_name!r}")
    _require_no_arguments(func, func_name)
    return func


def _require_no_arguments(func, func_name):
    """FUNCTION is called with no arguments: say so before calling it."""
    try:
        params = inspect.signature(func).parameters.values()
    except (TypeError, ValueError):
        return  # a builtin or C function: let the call decide
    needed = [p.name for p in params if p.default is p.empty
              and p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY)]
    if needed:
        raise GraphError(f"{func_name}() needs arguments ({', '.join(needed)}); graphdl render "
                         "calls FUNCTION with none: wrap it in a function without parameters")


def build_target(func):
    """Call ``func`` in a fresh default graph; return what to draw and its graph."""
    graph = Graph()
    # the function's prints must not mix with DOT written to stdout
    with graph.as_default(), contextlib.redirect_stdout(sys.stderr):
        result = func()
    if result is None:
        if not graph.nodes:
            raise GraphError(f"{func.__name__}() returned nothing and built nothing in the "
                             "default graph; return the graph or the tensors to draw")
        return graph, graph
    if isinstance(result, (tuple, list)):
        graphs = [r for r in result if isinstance(r, Graph)]
        if graphs:
            return graphs[0], graphs[0]
    if isinstance(result, Graph):
        return result, result
    return result, None


def _tensor(graph, name):
    try:
        return graph.get_tensor(name)
    except GraphError as exc:
        raise GraphError(f"--highlight: {exc}") from exc


def render_command(args):
    """``graphdl render``: build the target, resolve highlight names, draw."""
    what, graph = build_target(load_function(args.target))
    highlight = None
    if args.highlight:
        if graph is None:
            graph = graph_and_roots(what)[0]
        if len(args.highlight) > 2:
            raise GraphError("--highlight takes one or two tensor names")
        found = [_tensor(graph, name) for name in args.highlight]
        highlight = found[0] if len(found) == 1 else tuple(found)
    options = dict(view=args.view, depth=args.depth, highlight=highlight,
                   edge_labels=args.edge_labels, legend=args.legend, rankdir=args.rankdir,
                   title=args.title,
                   cross_links={"auto": "auto", "yes": True, "no": False}[args.cross_links])
    if args.output is None:
        if args.format not in (None, "dot"):
            raise GraphError("--format other than dot needs -o PATH")
        sys.stdout.write(render(what, **options))
        return
    render(what, path=args.output, format=args.format, **options)
    print(f"wrote {args.output}", file=sys.stderr)


def _fetches(what, graph):
    """What to compile: the returned tensors/ops, or a graph's final nodes."""
    if isinstance(what, Graph) or what is None:
        graph = what if isinstance(what, Graph) else graph
        used = {t for n in graph.nodes for t in n.inputs}
        used |= {c for n in graph.nodes for c in n.control_inputs}
        return [n.outputs[0] if n.outputs else n for n in graph.nodes
                if n not in used and not (n.outputs and n.outputs[0] in used)
                and n.op.source is None]
    if isinstance(what, dict):
        return list(what.values())
    return list(what) if isinstance(what, (list, tuple)) else [what]


def compile_command(args):
    """``graphdl compile``: build the target, compile it, write the three files
    (for ``--backend cuda``: the kernel sources, the lowered program and PTX)."""
    from .compiled import compile as compile_fetches  # noqa: PLC0415
    what, graph = build_target(load_function(args.target))
    fetches = _fetches(what, graph)
    if args.backend in ("cuda", "numba_cuda"):
        written = _export_cuda(fetches, args.output)
    else:
        written = compile_fetches(fetches, backend=args.backend).write(
            args.output, picture=args.picture)
    for path in written:
        print(f"wrote {path}", file=sys.stderr)


def _export_cuda(fetches, out_dir):
    """The cuda backend's program.py, lowered.txt and one PTX file per generated
    kernel; no GPU needed (the CUDA Session itself would insist on one)."""
    from .backends.numba_cuda.export import export  # noqa: PLC0415
    from .compiled import needed_placeholders  # noqa: PLC0415
    if not fetches or not all(isinstance(f, (Tensor, Node)) for f in fetches):
        raise GraphError("compile: fetches must be tensors or ops (or a list of them)")
    feeds = sorted(needed_placeholders(fetches), key=lambda t: (t.node.id, t.index))
    return export(Program(fetches, feeds), out_dir)


def main(argv=None):
    """Entry point of the ``graphdl`` command; returns the exit status (2 on errors)."""
    args = _parser().parse_args(argv)
    try:
        if args.command == "render":
            render_command(args)
        elif args.command == "compile":
            compile_command(args)
    except GraphError as exc:
        print(f"graphdl {args.command}: error: {exc}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
