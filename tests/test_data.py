"""gd.data: the IDX reader on files the tests write, MNIST loading, digits, batches."""

import gzip
import struct

import numpy as np
import pytest

import graphdl as gd
from graphdl.data import DataError, batches, load_mnist, read_idx

CODES = {np.dtype("uint8"): 0x08, np.dtype("int16"): 0x0B, np.dtype("int32"): 0x0C,
         np.dtype("float32"): 0x0D, np.dtype("float64"): 0x0E}


def idx_bytes(array):
    """The IDX encoding, written here independently of graphdl's reader."""
    header = struct.pack(">BBBB", 0, 0, CODES[array.dtype], array.ndim)
    header += b"".join(struct.pack(">I", d) for d in array.shape)
    return header + array.astype(array.dtype.newbyteorder(">")).tobytes()


@pytest.mark.parametrize("dtype", ["uint8", "int16", "int32", "float32", "float64"])
def test_read_idx_raw_and_gzip(tmp_path, dtype):
    a = (np.arange(2 * 3 * 4) * 3 - 7).reshape(2, 3, 4).astype(dtype)
    if dtype == "uint8":
        a = np.arange(24, dtype="uint8").reshape(2, 3, 4)
    (tmp_path / "a.idx").write_bytes(idx_bytes(a))
    (tmp_path / "a.idx.gz").write_bytes(gzip.compress(idx_bytes(a)))
    for name in ("a.idx", "a.idx.gz"):
        got = read_idx(tmp_path / name)
        assert got.dtype == a.dtype and got.dtype.isnative
        np.testing.assert_array_equal(got, a)
    with open(tmp_path / "a.idx", "rb") as f:  # a file object works too
        np.testing.assert_array_equal(read_idx(f), a)


def test_read_idx_errors(tmp_path):
    data = idx_bytes(np.zeros((4, 5), "uint8"))
    cases = {"short.idx": (data[:-3], "needs 20 bytes, the file has 17"),
             "header.idx": (data[:6], "truncated IDX header"),
             "magic.idx": (b"\x01\x02" + data[2:], "not an IDX file"),
             "gz.idx": (gzip.compress(data)[:-10], "damaged gzip")}
    for name, (content, message) in cases.items():
        (tmp_path / name).write_bytes(content)
        with pytest.raises(DataError, match=message):
            read_idx(tmp_path / name)
    with pytest.raises(DataError, match="does not exist"):
        read_idx(tmp_path / "nope.idx")


def _write_mnist(folder, n_train=5, n_test=3, gz=True):
    rng = np.random.default_rng(0)
    for prefix, n in (("train", n_train), ("t10k", n_test)):
        images = rng.integers(0, 256, (n, 28, 28)).astype("uint8")
        labels = rng.integers(0, 10, n).astype("uint8")
        for kind, arr in (("images-idx3", images), ("labels-idx1", labels)):
            raw = idx_bytes(arr)
            name = f"{prefix}-{kind}-ubyte"
            if gz:
                (folder / (name + ".gz")).write_bytes(gzip.compress(raw))
            else:
                (folder / name).write_bytes(raw)
    return images, labels


@pytest.mark.parametrize("gz", [True, False])
def test_load_mnist(tmp_path, gz):
    test_images, test_labels = _write_mnist(tmp_path, gz=gz)
    (x_train, y_train), (x_test, y_test) = load_mnist(tmp_path, kind="fashion")
    assert x_train.shape == (5, 28, 28) and x_train.dtype == np.float32
    assert y_train.dtype == np.int64 and x_test.shape == (3, 28, 28)
    np.testing.assert_allclose(x_test, test_images / 255.0, rtol=1e-6)
    np.testing.assert_array_equal(y_test, test_labels)
    (_, _), (raw, _) = load_mnist(tmp_path, normalize=False)
    np.testing.assert_array_equal(raw, test_images)


def test_load_mnist_missing_file_says_where_to_get_it(tmp_path):
    with pytest.raises(DataError, match="train-images-idx3-ubyte.*zalandoresearch"):
        load_mnist(tmp_path, kind="fashion")
    with pytest.raises(DataError, match="yann.lecun.com"):
        load_mnist(tmp_path)
    with pytest.raises(DataError, match="kind must be"):
        load_mnist(tmp_path, kind="kmnist")


def test_load_digits():
    (x_train, y_train), (x_test, y_test) = gd.data.load_digits()
    assert x_train.shape == (1438, 8, 8) and x_test.shape == (359, 8, 8)
    assert x_train.dtype == np.float32 and 0 <= x_train.min() and x_train.max() <= 1
    assert set(np.unique(y_train)) == set(range(10))
    (flat, _), _ = gd.data.load_digits(flat=True)
    assert flat.shape == (1438, 64)


def test_batches():
    X, Y = np.arange(10).reshape(10, 1), np.arange(10)
    got = list(batches(X, Y, batch_size=4))
    assert [len(b[0]) for b in got] == [4, 4, 2]
    np.testing.assert_array_equal(np.concatenate([b[1] for b in got]), Y)
    shuffled = list(batches(X, Y, 3, shuffle=True, seed=1))
    again = list(batches(X, Y, 3, shuffle=True, seed=1))
    order = np.concatenate([b[1] for b in shuffled])
    assert sorted(order) == list(range(10)) and list(order) != list(range(10))
    np.testing.assert_array_equal(order, np.concatenate([b[1] for b in again]))
    for xb, yb in shuffled:
        np.testing.assert_array_equal(xb[:, 0], yb)  # rows stay paired
    assert len(list(batches(X, batch_size=5))) == 2
    with pytest.raises(DataError, match="X has 10 rows but Y has 9"):
        list(batches(X, Y[:9]))
