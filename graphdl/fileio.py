"""Writing files safely: the one place graphdl puts bytes on disk (pictures, checkpoints).

``write_atomic(path, data)`` never leaves half a file behind and never surprises the
owner of what was at ``path``:

* a regular file (or a new one) is written to a temporary file beside it and renamed
  over it, so readers see the old file or the new one, never a mix;
* a symlink is followed: the file it points to is replaced (atomically), the link stays;
* an existing file keeps its permission bits (a 0600 file stays 0600); a new file gets
  0666 minus the umask, like any program's output;
* a file with other hard links is rewritten in place, so every name still shows the
  same (new) content; a rename would silently detach this name from the others;
* a device node, a FIFO or a socket (``/dev/stdout``, ``/dev/null``, a pipe) is
  written through, not replaced by a regular file;
* a directory, a missing or unwritable parent, a full disk: a clear error of class
  ``error`` naming the path, not a traceback about a hidden temporary file.
"""

import contextlib
import errno
import os
import secrets
import stat
from pathlib import Path

from .errors import GraphError


def write_atomic(path, data, error=GraphError):
    """Write ``data`` (bytes) to ``path`` as described in the module docstring.

    Returns ``path`` as a :class:`~pathlib.Path`; raises ``error`` (a GraphError
    subclass) with a one-line message on any failure.
    """
    path = Path(path)
    target = Path(os.path.realpath(path))  # follow symlinks, however many
    try:
        st = os.stat(target)
    except FileNotFoundError:
        st = None
    except OSError as exc:
        raise error(f"cannot write {str(path)!r}: {exc.strerror}") from None
    if st is not None and stat.S_ISDIR(st.st_mode):
        raise error(f"cannot write {str(path)!r}: it is a directory; give a file name")
    try:
        if st is not None and not stat.S_ISREG(st.st_mode):
            _write_through(target, data)  # device, FIFO, socket
        elif st is not None and st.st_nlink > 1:
            _write_through(target, data)  # keep every hard link pointing at the content
        else:
            _replace(target, data, None if st is None else stat.S_IMODE(st.st_mode))
    except OSError as exc:
        raise error(f"cannot write {str(path)!r}: {_reason(exc, target)}") from None
    return path


def _write_through(target, data):
    with open(target, "wb") as f:
        f.write(data)


def _replace(target, data, mode):
    parent = target.parent
    parent.mkdir(parents=True, exist_ok=True)
    tmp = parent / f".{target.name}.{secrets.token_hex(6)}.tmp"
    # os.open applies the umask to 0o666, as any new output file gets
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        if mode is not None:
            os.chmod(tmp, mode)
        os.replace(tmp, target)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise


def _reason(exc, target):
    if exc.errno in (errno.EACCES, errno.EPERM, errno.EROFS):
        return f"permission denied (is {str(target.parent)!r} writable?)"
    if exc.errno == errno.ENOTDIR:
        return "a parent of the path is not a directory"
    return exc.strerror or str(exc)

