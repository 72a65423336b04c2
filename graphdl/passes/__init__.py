"""Backend-independent rewrites from a Program to an optimized LoweredProgram.

``lower`` makes state explicit (:mod:`.lower`); each pass in ``PIPELINE`` is one
module with one rewrite ``run(lp) -> lp``, applied in the declared order by
:func:`optimize`. ``GRAPHDL_DEBUG=1`` prints the program after each pass.
"""

import os
import sys

from . import fuse
from .ir import Kernel, LOp, LoweredProgram, Value
from .lower import lower

#: (name, function) in the order they run; compiled backends call optimize()
PIPELINE = [
    ("fuse", fuse.run),
]


def optimize(program, pipeline=None):
    """Lower ``program`` and run the passes; each pass's result is kept in ``lp.log``."""
    lp = lower(program)
    debug = os.environ.get("GRAPHDL_DEBUG", "") not in ("", "0")
    _record(lp, "lower", debug)
    for name, rewrite in (PIPELINE if pipeline is None else pipeline):
        lp = rewrite(lp)
        _record(lp, name, debug)
    return lp


def _record(lp, name, debug):
    text = lp.dump()
    lp.log.append((name, text))
    if debug:
        print(f"--- graphdl pass: {name} ---\n{text}", file=sys.stderr)


__all__ = ["Kernel", "LOp", "LoweredProgram", "PIPELINE", "Value", "lower", "optimize"]
