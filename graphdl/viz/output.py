"""Turning DOT source into files: running Graphviz and writing atomically.

``dot`` is a system program (package ``graphviz``), not a Python package, so
it can be missing: then every format but ``dot`` fails with a
:class:`~graphdl.errors.GraphvizNotFoundError` that says how to install it.
Files are written to a temporary file beside the target and renamed over it,
so a failed or interrupted render never leaves half a picture behind.
"""

import os
import tempfile
from pathlib import Path

import graphviz

from ..errors import GraphvizNotFoundError, RenderError

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
    """Write bytes to ``path`` via a temporary file and a rename (same directory)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.chmod(tmp, 0o644)
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise
    return path
