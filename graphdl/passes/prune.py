"""Dead-code pruning: drop ops whose outputs nothing live needs.

Live: fetches and variable updates, and what they read, transitively. Random ops
(``op.random``) are always kept: dropping a draw would shift every later draw of the
session's generator and change the masks the reference draws. Parameters are kept
(variables are initialized in first-use order, which random initializers depend on).
"""


def run(lp):
    """``lp`` without its dead ops (rewrites leave some behind; this removes them)."""
    needed = {v for v in lp.live_values()}
    kept = []
    for lop in reversed(lp.ops):
        if lop.op.random or any(o in needed for o in lop.outputs):
            kept.append(lop)
            needed.update(lop.inputs)
    kept.reverse()
    lp.ops = kept
    return lp
