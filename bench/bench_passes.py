"""How long ``graphdl.passes.optimize`` takes: it runs at the first ``sess.run`` of
every program on a compiled backend, so it must take milliseconds.

Training steps (forward, gradients, SGD updates) of MLPs of growing depth, plus a
small CNN step; for each: graph nodes in the Program, lowered ops, kernels after
fusion, and the median optimize() time over many rounds, with the time per pass for
the largest. Usage: ``python bench/bench_passes.py [rounds]``.
"""

import statistics
import sys
import time

import numpy as np

import graphdl as gd
from graphdl.passes import PIPELINE, lower, optimize
from graphdl.program import Program


def mlp_step(layers, width=128):
    x = gd.placeholder((None, 784), name="x")
    y = gd.placeholder((None,), "int64", name="y")
    h, d, params = x, 784, []
    for _ in range(layers):
        w = gd.Variable(gd.initializers.glorot_uniform((d, width)))
        b = gd.Variable(np.zeros(width, "float32"))
        h, d = gd.relu(h @ w + b), width
        params += [w, b]
    w = gd.Variable(gd.initializers.glorot_uniform((d, 10)))
    b = gd.Variable(np.zeros(10, "float32"))
    loss = gd.mean(gd.sparse_softmax_cross_entropy(h @ w + b, y))
    grads = gd.gradients(loss, params + [w, b])
    step = gd.group(*[gd.assign_sub(v, 0.1 * g) for v, g in zip(params + [w, b], grads)])
    return Program([loss, step], [x, y])


def cnn_step():
    x = gd.placeholder((None, 1, 28, 28), name="x")
    y = gd.placeholder((None,), "int64", name="y")
    k1 = gd.Variable(gd.initializers.he_normal((32, 1, 3, 3)))
    k2 = gd.Variable(gd.initializers.he_normal((64, 32, 3, 3)))
    w = gd.Variable(gd.initializers.glorot_uniform((64 * 5 * 5, 10)))
    h = gd.max_pool2d(gd.relu(gd.conv2d(x, k1)), 2)
    h = gd.max_pool2d(gd.relu(gd.conv2d(h, k2)), 2)
    loss = gd.mean(gd.sparse_softmax_cross_entropy(gd.flatten(h) @ w, y))
    grads = gd.gradients(loss, [k1, k2, w])
    step = gd.group(*[gd.assign_sub(v, 0.01 * g) for v, g in zip([k1, k2, w], grads)])
    return Program([loss, step], [x, y])


def times_ms(fn, rounds):
    """(median, min) in ms: on a shared machine the min is the undisturbed cost."""
    times = []
    for _ in range(rounds):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return statistics.median(times) * 1e3, min(times) * 1e3


def main(rounds=50):
    cases = [(f"MLP {n} hidden", lambda n=n: mlp_step(n)) for n in (1, 4, 8)]
    cases.append(("CNN conv32-pool-conv64-pool-dense", cnn_step))
    print(f"{'program':36} {'nodes':>6} {'lowered':>8} {'kernels':>8} "
          f"{'optimize median':>16} {'min':>9}")
    for name, build in cases:
        with gd.Graph(seed=0).as_default():
            prog = build()
            lp = optimize(prog)
            med, low = times_ms(lambda: optimize(prog), rounds)
            print(f"{name:36} {len(prog.nodes):6d} {len(lower(prog).ops):8d} "
                  f"{len(lp.kernels):8d} {med:13.2f} ms {low:6.2f} ms")
    print("\nper pass, MLP 8 hidden:")
    with gd.Graph(seed=0).as_default():
        prog = mlp_step(8)
        per = {i: [] for i in range(len(PIPELINE) + 1)}
        for _ in range(rounds):
            t = time.perf_counter()
            lp = lower(prog)
            per[0].append(time.perf_counter() - t)
            for i, (_, rewrite) in enumerate(PIPELINE, 1):
                t = time.perf_counter()
                lp = rewrite(lp)
                per[i].append(time.perf_counter() - t)
    for i, label in enumerate(["lower"] + [n for n, _ in PIPELINE]):
        print(f"  {label:10} {statistics.median(per[i]) * 1e3:6.2f} ms median, "
              f"{min(per[i]) * 1e3:6.2f} ms min")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 50)
