"""Checkpoints: variable values by name in a NumPy ``.npz`` file, written atomically.

``gd.save(sess, path)`` writes every variable of the session's graph (or
``var_list``); ``gd.restore(sess, path)`` reads them back. The file holds a
manifest (format tag, names, shapes, dtypes) next to the arrays. Restoring
checks everything before changing anything: a missing or unexpected name, a
shape or dtype mismatch, a truncated or foreign file raises
:class:`CheckpointError` and leaves every variable as it was.
"""

import io
import json
import zipfile
from pathlib import Path

import numpy as np

from .errors import GraphError
from .fileio import write_atomic
from .ops.sources import Variable
from .shapes import fmt

__all__ = ["CheckpointError", "save", "restore", "write_arrays", "read_arrays"]

FORMAT = "graphdl-checkpoint-1"
_MANIFEST = "__manifest__"


class CheckpointError(GraphError):
    """A checkpoint file that cannot be read, or does not fit the variables."""


def write_arrays(path, named, meta=None):
    """Write ``named`` ({name: array}) and ``meta`` (JSON-able) to ``path`` atomically
    (:func:`graphdl.fileio.write_atomic`)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    names = list(named)
    manifest = {"format": FORMAT, "names": names, "meta": meta or {},
                "shapes": [list(np.shape(named[n])) for n in names],
                "dtypes": [str(np.asarray(named[n]).dtype) for n in names]}
    arrays = {f"v{i}": np.asarray(named[n]) for i, n in enumerate(names)}
    arrays[_MANIFEST] = np.array(json.dumps(manifest))
    buf = io.BytesIO()
    np.savez(buf, **arrays)
    write_atomic(path, buf.getvalue(), error=CheckpointError)


def read_arrays(path):
    """({name: array}, meta) from a file written by :func:`write_arrays`; every array is
    read (and its CRC checked) here, so a damaged file fails before anything uses it."""
    path = Path(path)
    if not path.exists():
        raise CheckpointError(f"checkpoint {str(path)!r} does not exist")
    try:
        data = path.read_bytes()
        with np.load(io.BytesIO(data), allow_pickle=False) as npz:
            if _MANIFEST not in npz.files:
                raise CheckpointError(f"{str(path)!r} is not a graphdl checkpoint (no manifest)")
            manifest = json.loads(str(npz[_MANIFEST]))
            if manifest.get("format") != FORMAT:
                raise CheckpointError(f"{str(path)!r} has format {manifest.get('format')!r}, "
                                      f"expected {FORMAT!r}")
            arrays = {n: npz[f"v{i}"] for i, n in enumerate(manifest["names"])}
    except CheckpointError:
        raise
    except (OSError, ValueError, EOFError, KeyError, zipfile.BadZipFile,
            json.JSONDecodeError) as exc:
        raise CheckpointError(f"cannot read checkpoint {str(path)!r}: the file is truncated "
                              f"or not a graphdl checkpoint ({type(exc).__name__}: {exc})") \
            from exc
    for n, shape, dtype in zip(manifest["names"], manifest["shapes"], manifest["dtypes"]):
        a = arrays[n]
        if list(a.shape) != shape or str(a.dtype) != dtype:
            raise CheckpointError(f"checkpoint {str(path)!r} is damaged: {n!r} is "
                                  f"{fmt(a.shape)} {a.dtype}, the manifest says "
                                  f"{fmt(tuple(shape))} {dtype}")
    return arrays, manifest["meta"]


def _variables(sess, var_list):
    vs = sess.graph.variables() if var_list is None else list(var_list)
    for v in vs:
        if not isinstance(v, Variable):
            raise CheckpointError(f"{getattr(v, 'name', v)!r} is not a gd.Variable")
    names = [v.name for v in vs]
    if len(set(names)) != len(names):
        raise CheckpointError("two variables share a name; name them apart to checkpoint them")
    return vs


def save(sess, path, var_list=None, meta=None):
    """Write the session's values of ``var_list`` (default: all variables of its graph)
    to ``path`` (.npz) atomically. Variables not yet used are initialized first."""
    vs = _variables(sess, var_list)
    values = sess.run(list(vs)) if vs else []
    write_arrays(path, {v.name: val for v, val in zip(vs, values)}, meta)


def check_fits(path, arrays, vs):
    """A CheckpointError unless ``arrays`` has exactly the names, shapes and dtypes of
    ``vs``."""
    by_name = {v.name: v for v in vs}
    missing = [n for n in by_name if n not in arrays]
    extra = [n for n in arrays if n not in by_name]
    if missing or extra:
        raise CheckpointError(
            f"checkpoint {str(path)!r} does not hold this model's variables"
            + (f"; missing: {', '.join(missing[:5])}" if missing else "")
            + (f"; unexpected: {', '.join(extra[:5])}" if extra else "")
            + " (a file of another model?)")
    for n, v in by_name.items():
        a = arrays[n]
        if a.shape != v.shape or a.dtype != v.dtype:
            raise CheckpointError(f"checkpoint {str(path)!r}: variable {n!r} is "
                                  f"{fmt(v.shape)} {v.dtype}, the file holds "
                                  f"{fmt(a.shape)} {a.dtype}")


def assign_values(sess, named):
    """Set variables ({Variable: array}) in ``sess`` directly (no graph ops added)."""
    for v, value in named.items():
        sess._ctx.write_variable(v, np.array(value, dtype=v.dtype))


def restore(sess, path, var_list=None):
    """Load ``path`` into the session's variables (default: all of its graph's).

    Every name, shape and dtype is checked before any variable changes.
    Returns the metadata stored with the checkpoint.
    """
    vs = _variables(sess, var_list)
    arrays, meta = read_arrays(path)
    check_fits(path, arrays, vs)
    assign_values(sess, {v: arrays[v.name] for v in vs})
    return meta
