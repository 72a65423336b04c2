"""What the examples share: command-line options and the pictures they write.

Every example takes ``--backend NAME`` (default: the fastest registered backend),
``--quick`` (short settings with a relaxed target: what the test suite runs) and
``--out DIR`` (where forward.svg and backward.svg go; default ``out/<example>``).
"""

import argparse
import sys
import time
from pathlib import Path

import graphdl as gd


def parse_args(doc, argv=None):
    """The shared options, parsed from ``argv`` (default: the command line)."""
    name = Path(sys.argv[0]).stem
    parser = argparse.ArgumentParser(description=doc.strip().splitlines()[0])
    parser.add_argument("--backend", default=None,
                        help="Session backend (default: the fastest registered one: "
                             f"{gd.nn.default_backend()})")
    parser.add_argument("--quick", action="store_true",
                        help="short training with a relaxed target (used by the tests)")
    parser.add_argument("--out", default=f"out/{name}", help="folder for the pictures")
    args = parser.parse_args(argv)
    args.backend = args.backend or gd.nn.default_backend()
    args.out = Path(args.out)
    return args


def write_graphs(forward, backward, out, title, depth=None, backward_view="backward"):
    """``forward.svg`` (what ``forward`` depends on) and ``backward.svg`` (the gradient
    and update nodes of graph ``backward``) in ``out``; ``depth`` collapses deeper
    name scopes (unrolled recurrent layers) into one box each. A model trained without
    gradients (the perceptron rule) draws its whole graph: ``backward_view="all"``."""
    out = Path(out)
    start = time.perf_counter()
    gd.render(forward, path=out / "forward.svg", view="forward", depth=depth,
              title=f"{title}: forward graph")
    gd.render(backward, path=out / "backward.svg", view=backward_view, depth=depth,
              title=f"{title}: gradients and updates")
    print(f"pictures: {out / 'forward.svg'}  {out / 'backward.svg'} "
          f"({time.perf_counter() - start:.1f} s)")


def report(name, value, target, higher_is_better=True):
    """Print a result against its target and assert it."""
    ok = value >= target if higher_is_better else value <= target
    relation = ">=" if higher_is_better else "<="
    print(f"{name}: {value:.4f} (target {relation} {target}) {'OK' if ok else 'FAILED'}")
    assert ok, f"{name} {value:.4f} misses its target {relation} {target}"


def write_short_graphs(build_model, compile_args, x, y, out, title, steps=4):
    """Pictures of a recurrent model unrolled over only ``steps`` time steps: the
    same layers and training graph as the trained model, small enough to read (and
    to lay out in a second rather than minutes)."""
    model = build_model()
    model.compile(*compile_args)
    model.evaluate(x[:2, :steps], y[:2])  # builds the loss and the training op
    write_graphs(model.loss, model.graph, out, f"{title} ({steps} steps shown)")
