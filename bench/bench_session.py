"""What the Session's guarantees cost per run at batch 1 (issue #9).

A training step and an inference fetch of a small MLP (784-64-10, batch 1) on the
reference backend, timed three ways, interleaved, medians of many rounds:

* ``raw``: the compiled program called directly (no lock, no transaction, no copies);
* ``session``: ``sess.run`` (lock + staged writes + alias guard);
* ``lock only``: the raw call inside the Session's lock;
* ``unguarded``: ``sess.run``'s work before issue #9 (fetch structure, feed checks,
  program lookup, the call) without the lock, the transaction and the alias guard.

``session / unguarded`` is the cost of the guarantees.

Prints ratios to ``raw`` measured in the same run (absolute times are noisy on a
shared machine). Usage: ``python bench/bench_session.py [rounds]``.
"""

import statistics
import sys
import time

import numpy as np

import graphdl as gd


def build():
    x = gd.placeholder((None, 784), "float32", name="x")
    y = gd.placeholder((None,), "int64", name="y")
    w1 = gd.Variable(gd.initializers.glorot_uniform((784, 64)), name="w1")
    b1 = gd.Variable(np.zeros(64, "float32"), name="b1")
    w2 = gd.Variable(gd.initializers.glorot_uniform((64, 10)), name="w2")
    b2 = gd.Variable(np.zeros(10, "float32"), name="b2")
    logits = gd.matmul(gd.relu(gd.matmul(x, w1) + b1), w2) + b2
    loss = gd.mean(gd.sparse_softmax_cross_entropy(logits, y))
    grads = gd.gradients(loss, [w1, b1, w2, b2])
    step = gd.group(*[gd.assign_sub(v, 0.01 * g) for v, g in zip([w1, b1, w2, b2], grads)])
    return x, y, logits, loss, step, [w1, b1, w2, b2]


def unguarded(sess, fetches, feed_dict):
    """Session.run as it was before the lock, the transaction and the alias guard."""
    flat = []
    structure = sess._flatten(fetches, flat)
    feeds = sess._check_feeds({} if feed_dict is None else feed_dict)
    key = (tuple(id(f) for f in flat), tuple(sorted(id(t) for t in feeds)))
    values = sess._programs[key][1](sess._ctx, feeds)
    return sess._unflatten(structure, iter(values))


def main(rounds=300):
    x, y, logits, loss, step, variables = build()
    sess = gd.Session(seed=0)
    rng = np.random.default_rng(0)
    feed = {x: rng.standard_normal((1, 784)).astype("float32"), y: np.array([3])}
    cases = {"train step": [loss, step], "inference": logits, "fetch weights": variables}
    for name, fetches in cases.items():
        sess.run(fetches, feed if name != "fetch weights" else None)
        _, run, _ = list(sess._programs.values())[-1]
        feeds = sess._check_feeds(feed if name != "fetch weights" else {})
        times = {"raw": [], "lock only": [], "unguarded": [], "session": []}
        fd = feed if name != "fetch weights" else None
        for _ in range(rounds):
            t = time.perf_counter()
            run(sess._ctx, feeds)
            times["raw"].append(time.perf_counter() - t)
            t = time.perf_counter()
            with sess._lock:
                run(sess._ctx, feeds)
            times["lock only"].append(time.perf_counter() - t)
            t = time.perf_counter()
            unguarded(sess, fetches, fd)
            times["unguarded"].append(time.perf_counter() - t)
            t = time.perf_counter()
            sess.run(fetches, fd)
            times["session"].append(time.perf_counter() - t)
        med = {k: statistics.median(v) for k, v in times.items()}
        raw = med["raw"]
        print(f"{name:14s} raw {raw * 1e6:7.1f} us  " + "  ".join(
            f"{k} x{v / raw:.3f}" for k, v in med.items() if k != "raw")
            + f"  | session/unguarded x{med['session'] / med['unguarded']:.3f}"
            + f" (+{(med['session'] - med['unguarded']) * 1e6:.1f} us)")
        sess._programs.clear()


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 300)
