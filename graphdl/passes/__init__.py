"""Backend-independent rewrites from a Program to an optimized LoweredProgram.

``lower`` makes state explicit (:mod:`.lower`); each pass in ``PIPELINE`` is one
module with one rewrite ``run(lp) -> lp``, applied in the declared order by
:func:`optimize`. ``GRAPHDL_DEBUG=1`` prints the program after each pass.
"""

import os
import sys

from . import buffers, cse, fold, fuse, prune, simplify, stabilize
from .ir import Kernel, LOp, LoweredProgram, Value
from .lower import lower

#: (name, function) in the order they run; compiled backends call optimize().
#: Rewrites first (each may leave dead ops: the second prune drops them), then the
#: fusion that decides the kernels, then the buffer plan over those kernels.
PIPELINE = [
    ("prune", prune.run),
    ("cse", cse.run),
    ("fold", fold.run),
    ("simplify", simplify.run),
    ("stabilize", stabilize.run),
    ("prune", prune.run),
    ("fuse", fuse.run),
    ("buffers", buffers.run),
]


def optimize(program, pipeline=None, log=False):
    """Lower ``program`` and run the passes.

    With ``log=True`` (or ``GRAPHDL_DEBUG=1``, which also prints them) ``lp.log`` keeps
    ``(pass name, listing)`` after each pass, for ``graphdl compile`` and debugging;
    otherwise only the pass names (listing every pass costs more than the passes).
    """
    lp = lower(program)
    debug = os.environ.get("GRAPHDL_DEBUG", "") not in ("", "0")
    _record(lp, "lower", log or debug, debug)
    for name, rewrite in (PIPELINE if pipeline is None else pipeline):
        lp = rewrite(lp)
        _record(lp, name, log or debug, debug)
    return lp


def _record(lp, name, keep, debug):
    text = lp.dump() if keep else None
    lp.log.append((name, text))
    if debug:
        print(f"--- graphdl pass: {name} ---\n{text}", file=sys.stderr)


__all__ = ["Kernel", "LOp", "LoweredProgram", "PIPELINE", "Value", "lower", "optimize"]
