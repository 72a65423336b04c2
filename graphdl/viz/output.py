"""Turning DOT source into files: running Graphviz and writing atomically.

``dot`` is a system program (package ``graphviz``), not a Python package, so
it can be missing: then every format but ``dot`` fails with a
:class:`~graphdl.errors.GraphvizNotFoundError` that says how to install it.
Files are written with :func:`graphdl.fileio.write_atomic`: a temporary file beside
the target renamed over it (a failed render never leaves half a picture behind),
following symlinks, keeping modes, writing through to devices and FIFOs.
"""

from pathlib import Path

import graphviz

from ..errors import GraphvizNotFoundError, RenderError
from ..fileio import write_atomic as _write_atomic

#: formats ``render`` writes; "dot" is the source itself and needs no Graphviz
FORMATS = ("svg", "png", "pdf", "dot")

INSTALL_HINT = ("install Graphviz: `sudo apt-get install graphviz` (Debian/Ubuntu), "
                "`brew install graphviz` (macOS), `conda install graphviz`, or see "
                "https://graphviz.org/download/ ; format='dot' works without it")


def check_format(fmt):
    if fmt not in FORMATS:
        raise RenderError(f"render: unknown format {fmt!r}; choose one of {', '.join(FORMATS)}")
    return fmt


def format_for(path, fmt):
    """The explicit ``fmt``, else the one the file suffix names, else svg."""
    if fmt is not None:
        return check_format(fmt)
    if path is None:
        return "svg"
    suffix = Path(path).suffix.lstrip(".").lower()
    if suffix in ("gv",):
        return "dot"
    if suffix not in FORMATS:
        raise RenderError(f"render: cannot tell the format from {str(path)!r}; give it "
                          f"(format= or --format): one of {', '.join(FORMATS)}")
    return suffix


def run_dot(source, fmt):
    """Lay out ``source`` with ``dot`` and return the picture as bytes."""
    check_format(fmt)
    if fmt == "dot":
        return source.encode("utf-8")
    try:
        return graphviz.pipe("dot", fmt, source.encode("utf-8"), quiet=True)
    except graphviz.ExecutableNotFound as exc:
        raise GraphvizNotFoundError(f"render: the Graphviz program `dot` was not found on "
                                    f"PATH; {INSTALL_HINT}") from exc
    except graphviz.CalledProcessError as exc:
        detail = (exc.stderr or b"").decode("utf-8", "replace").strip()
        raise RenderError(f"render: dot failed to lay out the graph: {detail}") from exc


def write_atomic(path, data):
    """Write bytes to ``path`` safely (see :mod:`graphdl.fileio`); RenderError on failure."""
    return _write_atomic(path, data, error=RenderError)
