"""Op-table entries for softmax, log-softmax, the cross-entropy losses and dropout."""

import numpy as np

import graphdl as gd

from . import OpInfo


def _np_log_softmax(x, axis):
    # plain log-sum-exp with the max taken out, written independently of graphdl
    m = np.max(x, axis=axis, keepdims=True)
    return x - m - np.log(np.sum(np.exp(x - m), axis=axis, keepdims=True))


def _logits(rng):
    return [(rng.standard_normal((3, 5)),),
            (rng.standard_normal((1, 7)),),                 # batch size 1
            (rng.standard_normal((2, 4)) * 3 + 800.0,)]     # huge logits: must not overflow


def _labels_like(rng, shape, onehot):
    if onehot:
        return np.eye(shape[-1])[rng.integers(0, shape[-1], shape[:-1])]
    p = rng.uniform(0.1, 1.0, shape)
    return p / p.sum(-1, keepdims=True)


def _xent_samples(rng):
    return [(rng.standard_normal((4, 5)), _labels_like(rng, (4, 5), True)),
            (rng.standard_normal((1, 3)), _labels_like(rng, (1, 3), False)),
            (rng.standard_normal((2, 6)) * 2 - 500.0, _labels_like(rng, (2, 6), False))]


def _sparse_samples(rng):
    return [(rng.standard_normal((4, 5)), rng.integers(0, 5, (4,))),
            (rng.standard_normal((1, 3)), np.array([2])),
            (rng.standard_normal((3, 2)) + 600.0, np.array([1, 0, 1]))]


def _np_sparse_xent(logits, labels):
    z = logits - logits.max(-1, keepdims=True)  # shift first: exact, no overflow
    return np.log(np.exp(z).sum(-1)) - z[np.arange(len(labels)), labels]


def _sigmoid_samples(rng):
    big = np.array([[-40.0, -3.0, 0.5, 35.0]])     # stability: exp(40) would overflow float32
    return [(rng.standard_normal((3, 4)), rng.uniform(0, 1, (3, 4))),
            (big, np.array([[0.0, 1.0, 0.3, 1.0]]))]


def _x(rng):
    return [(rng.standard_normal((3, 4)),), (rng.standard_normal((1, 5)),)]


OPS = [
    OpInfo("softmax", gd.softmax,
           lambda x: np.exp(_np_log_softmax(x, -1)), _logits),
    OpInfo("softmax[axis=0]", lambda x: gd.softmax(x, axis=0),
           lambda x: np.exp(_np_log_softmax(x, 0)), _logits),
    OpInfo("log_softmax", gd.log_softmax, lambda x: _np_log_softmax(x, -1), _logits),
    OpInfo("log_softmax[axis=0]", lambda x: gd.log_softmax(x, 0),
           lambda x: _np_log_softmax(x, 0), _logits),
    OpInfo("softmax_cross_entropy", gd.softmax_cross_entropy,
           lambda x, z: -np.sum(z * _np_log_softmax(x, -1), axis=-1), _xent_samples),
    OpInfo("softmax_cross_entropy[axis=0]",
           lambda x, z: gd.softmax_cross_entropy(x, z, axis=0),
           lambda x, z: -np.sum(z * _np_log_softmax(x, 0), axis=0),
           lambda r: [(r.standard_normal((4, 3)), _labels_like(r, (3, 4), False).T)]),
    OpInfo("sparse_softmax_cross_entropy", gd.sparse_softmax_cross_entropy,
           _np_sparse_xent, _sparse_samples),
    OpInfo("sigmoid_cross_entropy", gd.sigmoid_cross_entropy,
           lambda x, z: np.logaddexp(0, x) - x * z, _sigmoid_samples),
    # dropout's random behaviour is tested in tests/test_nn_errors.py; here the
    # deterministic cases: identity at inference and with rate 0
    OpInfo("dropout[training=False]", lambda x: gd.dropout(x, 0.5, training=False),
           lambda x: x, _x),
    OpInfo("dropout[rate=0]", lambda x: gd.dropout(x, 0.0), lambda x: x, _x),
    OpInfo("dropout[training=placeholder]", lambda x, t: gd.dropout(x, 0.3, training=t),
           lambda x, t: x, lambda r: [(r.standard_normal((3, 4)), np.array(False))]),
    # np.logaddexp.reduce is NumPy's own pairwise-stable log-sum-exp
    OpInfo("logsumexp[axis=1]", lambda x: gd.logsumexp(x, 1),
           lambda x: np.logaddexp.reduce(x, axis=1), _logits),
    OpInfo("logsumexp[all]", gd.logsumexp, lambda x: np.logaddexp.reduce(x.ravel()), _logits),
    OpInfo("logsumexp[axis=0,keepdims]", lambda x: gd.logsumexp(x, 0, keepdims=True),
           lambda x: np.logaddexp.reduce(x, axis=0, keepdims=True), _logits),
]
