"""Data sets and mini-batches.

* :func:`load_digits` — scikit-learn's bundled 8×8 handwritten digits (1797
  images, no download): the default data set of the examples.
* :func:`load_mnist` — MNIST or Fashion-MNIST from the four IDX files in a folder
  (raw or ``.gz``), read by :func:`read_idx`.
* :func:`batches` — mini-batches of (X, Y), optionally shuffled with a seed.
"""

import gzip
from pathlib import Path

import numpy as np

from .errors import GraphError

__all__ = ["DataError", "load_digits", "load_mnist", "read_idx", "batches", "train_test_split"]


class DataError(GraphError):
    """A data file that is missing or cannot be read."""


def train_test_split(X, Y, test_fraction=0.2, seed=0):
    """((X_train, Y_train), (X_test, Y_test)) after one seeded shuffle."""
    X, Y = np.asarray(X), np.asarray(Y)
    order = np.random.default_rng(seed).permutation(len(X))
    n_test = int(round(len(X) * test_fraction))
    test, train = order[:n_test], order[n_test:]
    return (X[train], Y[train]), (X[test], Y[test])


def load_digits(test_fraction=0.2, seed=0, flat=False):
    """scikit-learn's 8×8 digits as ((x_train, y_train), (x_test, y_test)).

    Images are float32 in [0, 1], shaped (N, 8, 8) (or (N, 64) with ``flat``);
    labels are int64 classes 0-9. The split is a seeded shuffle: 1438 training and
    359 test images by default.
    """
    from sklearn.datasets import load_digits as _sk_digits  # noqa: PLC0415 (slow import)
    d = _sk_digits()
    X = (d.images / 16.0).astype("float32")
    X = X.reshape(len(X), -1) if flat else X
    return train_test_split(X, d.target.astype("int64"), test_fraction, seed)


# -- IDX (the MNIST file format) --------------------------------------------------------
_IDX_TYPES = {0x08: ">u1", 0x09: ">i1", 0x0B: ">i2", 0x0C: ">i4", 0x0D: ">f4", 0x0E: ">f8"}


def read_idx(file):
    """An array from an IDX file (path or binary file object; gzip is detected).

    The format: two zero bytes, a type code, the number of dimensions, each
    dimension as a big-endian uint32, then the data in row-major order.
    """
    name = getattr(file, "name", str(file))
    if isinstance(file, (str, Path)):
        path = Path(file)
        if not path.exists():
            raise DataError(f"IDX file {str(path)!r} does not exist")
        raw = path.read_bytes()
    else:
        raw = file.read()
    if raw[:2] == b"\x1f\x8b":
        try:
            raw = gzip.decompress(raw)
        except (OSError, EOFError) as exc:
            raise DataError(f"{name!r}: damaged gzip data ({exc})") from exc
    if len(raw) < 4 or raw[:2] != b"\0\0" or raw[2] not in _IDX_TYPES:
        raise DataError(f"{name!r} is not an IDX file (bad magic number {raw[:4].hex()})")
    ndim = raw[3]
    header = 4 + 4 * ndim
    if len(raw) < header:
        raise DataError(f"{name!r}: truncated IDX header")
    shape = tuple(int(d) for d in np.frombuffer(raw, ">u4", ndim, 4))
    dtype = np.dtype(_IDX_TYPES[raw[2]])
    expected = int(np.prod(shape)) * dtype.itemsize
    if len(raw) - header != expected:
        raise DataError(f"{name!r}: IDX data of shape {shape} needs {expected} bytes, the "
                        f"file has {len(raw) - header} (truncated or damaged)")
    data = np.frombuffer(raw, dtype, offset=header).reshape(shape)
    return data.astype(dtype.newbyteorder("="))


_MNIST_FILES = {"train_images": "train-images-idx3-ubyte", "train_labels":
                "train-labels-idx1-ubyte", "test_images": "t10k-images-idx3-ubyte",
                "test_labels": "t10k-labels-idx1-ubyte"}
_SOURCES = {"digits": "https://storage.googleapis.com/cvdf-datasets/mnist/ (or "
                      "http://yann.lecun.com/exdb/mnist/)",
            "fashion": "https://github.com/zalandoresearch/fashion-mnist/tree/master/"
                       "data/fashion"}


def load_mnist(path, kind="digits", normalize=True):
    """MNIST (``kind="digits"``) or Fashion-MNIST (``kind="fashion"``) from ``path``.

    ``path`` is a folder holding train-images-idx3-ubyte, train-labels-idx1-ubyte,
    t10k-images-idx3-ubyte and t10k-labels-idx1-ubyte, each raw or ``.gz``.
    Returns ((x_train, y_train), (x_test, y_test)): images (N, 28, 28), float32
    in [0, 1] with ``normalize`` (else uint8), labels int64.
    """
    if kind not in _SOURCES:
        raise DataError(f"load_mnist: kind must be 'digits' or 'fashion', got {kind!r}")
    folder = Path(path)
    arrays = {}
    for key, base in _MNIST_FILES.items():
        found = [folder / n for n in (base, base + ".gz") if (folder / n).exists()]
        if not found:
            raise DataError(f"load_mnist: {base}[.gz] not found in {str(folder)!r}; download "
                            f"the four {kind} IDX files from {_SOURCES[kind]} into that folder")
        arrays[key] = read_idx(found[0])
    out = []
    for part in ("train", "test"):
        x, y = arrays[f"{part}_images"], arrays[f"{part}_labels"]
        if x.ndim != 3 or y.ndim != 1 or len(x) != len(y):
            raise DataError(f"load_mnist: {part} images {x.shape} and labels {y.shape} do "
                            "not match")
        out.append(((x / 255.0).astype("float32") if normalize else x, y.astype("int64")))
    return tuple(out)


def batches(X, Y=None, batch_size=32, shuffle=False, seed=None):
    """Yield (X_batch, Y_batch) (or X_batch alone when Y is None) of ``batch_size``
    rows; the last batch may be smaller. ``shuffle`` permutes the rows first, with
    ``seed`` (an int or a numpy Generator) making it repeatable."""
    X = np.asarray(X)
    if Y is not None:
        Y = np.asarray(Y)
        if len(Y) != len(X):
            raise DataError(f"batches: X has {len(X)} rows but Y has {len(Y)}")
    if not isinstance(batch_size, (int, np.integer)) or batch_size < 1:
        raise DataError(f"batches: batch_size must be a positive int, got {batch_size!r}")
    order = np.arange(len(X))
    if shuffle:
        rng = seed if isinstance(seed, np.random.Generator) else np.random.default_rng(seed)
        order = rng.permutation(len(X))
    for start in range(0, len(X), batch_size):
        idx = order[start:start + batch_size]
        yield (X[idx], Y[idx]) if Y is not None else X[idx]
