"""The content-addressed on-disk cache of generated programs.

A program's generated source is a canonical rendering of its lowered IR (values
are numbered by position, no graph names or ids appear), so the cache key is the
sha256 of that source plus a *salt*: graphdl's version, a hash of the kernel
library's source, the Numba and llvmlite versions and the CPU name. Each entry is
one module ``<dir>/gd_<key>.py`` whose first line records the hash of the rest;
Numba's ``cache=True`` keeps the machine code beside it in ``__pycache__``.

* Files are written atomically (temporary file + ``os.replace``), so a reader
  never sees half a file and two processes writing the same entry agree.
* An entry whose recorded hash does not match its text (truncated, garbage) is
  rewritten; Numba's own cache files for it are dropped at the same time.
* Modules are imported with ``spec_from_file_location`` *after* being put in
  ``sys.modules``, because Numba re-imports a cached function's module by name.

The directory is ``GRAPHDL_CACHE_DIR``, default ``~/.cache/graphdl``.
"""

import hashlib
import importlib.util
import os
import sys
import tempfile
from functools import cache
from pathlib import Path

HEADER = "# graphdl generated program; sha256 of the rest: "


def cache_dir():
    """Where entries live: ``$GRAPHDL_CACHE_DIR`` or ``~/.cache/graphdl``."""
    path = os.environ.get("GRAPHDL_CACHE_DIR") or os.path.join(
        os.path.expanduser("~"), ".cache", "graphdl")
    return Path(path)


@cache
def _versions():
    from ... import __version__  # noqa: PLC0415 (graphdl imports backends lazily)
    parts = [f"graphdl {__version__}"]
    for dist in ("numba", "llvmlite", "numpy"):
        try:  # the imported module's version: the installed metadata can be stale
            parts.append(f"{dist} {importlib.import_module(dist).__version__}")
        except ImportError:
            parts.append(f"{dist} missing")
    return parts


@cache
def _cpu_name():
    try:
        import llvmlite.binding as llvm  # noqa: PLC0415 (only when compiling)
        return llvm.get_host_cpu_name()
    except Exception:  # noqa: BLE001 (a missing llvmlite only makes the key coarser)
        import platform  # noqa: PLC0415
        return platform.machine()


def salt(library_files=()):
    """Text mixed into every key: versions, CPU, and the kernel library's source."""
    digest = hashlib.sha256()
    for path in sorted(str(p) for p in library_files):
        digest.update(Path(path).read_bytes())
    return "; ".join(_versions() + [f"cpu {_cpu_name()}", f"library {digest.hexdigest()}"])


def key(source, salt_text):
    """The cache key of a generated source under ``salt_text``."""
    return hashlib.sha256((salt_text + "\n" + source).encode()).hexdigest()[:32]


def _digest(text):
    return hashlib.sha256(text.encode()).hexdigest()


def _valid(path):
    try:
        text = path.read_text()
    except (OSError, UnicodeDecodeError):
        return False
    first, _, rest = text.partition("\n")
    return first.startswith(HEADER) and first[len(HEADER):] == _digest(rest)


def _write_atomically(path, text):
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".tmp-", suffix=".py")
    try:
        with os.fdopen(fd, "w") as f:
            f.write(text)
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise


def drop_numba_cache(path):
    """Remove Numba's index and data files of module ``path`` (a broken or stale entry)."""
    pycache = path.parent / "__pycache__"
    if pycache.is_dir():
        for f in pycache.glob(path.stem + ".*"):
            if f.suffix in (".nbi", ".nbc"):
                try:
                    f.unlink()
                except OSError:
                    pass


class Entry:
    """One cache entry: the module file, whether it was already there, and its module."""

    def __init__(self, path, hit):
        self.path = path
        self.hit = hit

    def load(self):
        """Import the module (registered in ``sys.modules`` first, see above)."""
        name = self.path.stem
        spec = importlib.util.spec_from_file_location(name, self.path)
        module = importlib.util.module_from_spec(spec)
        sys.modules[name] = module
        try:
            spec.loader.exec_module(module)
        except BaseException:
            sys.modules.pop(name, None)
            raise
        return module


def store(source, salt_text):
    """The entry holding ``source``: reused when present and intact, else (re)written."""
    k = key(source, salt_text)
    path = cache_dir() / f"gd_{k}.py"
    body = f"# salt: {salt_text}\n{source}"
    if _valid(path):
        return Entry(path, hit=True)
    drop_numba_cache(path)  # machine code of a broken entry is not trusted either
    _write_atomically(path, HEADER + _digest(body) + "\n" + body)
    return Entry(path, hit=False)


__all__ = ["Entry", "cache_dir", "drop_numba_cache", "key", "salt", "store"]
