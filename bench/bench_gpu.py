"""GPU train steps: graphdl's cuda backend against PyTorch CUDA eager, same run.

MLP 784-128-10 at batch 128 and the seed CNN (conv 3x3x32, max-pool, dense) at
batch 64 on 28x28 inputs, float32, SGD. For each: the median wall time of one
train step (synchronized), interleaved with the peer, and graphdl's host time
per step (the Python side: launches and bookkeeping, measured without waiting
for the GPU). Prints ratios; record them in docs/performance.md with the GPU
and the date.

    python bench/bench_gpu.py            # on a GPU machine (needs torch with CUDA)
    python bench/bench_gpu.py --tiny     # smoke test (any machine; with
                                         # NUMBA_ENABLE_CUDASIM=1 on the simulator)
"""

import argparse
import statistics
import time

import numpy as np

import graphdl as gd


def mlp(batch, hidden=128, inputs=784, classes=10):
    rng = np.random.default_rng(0)
    x = gd.placeholder((None, inputs), name="x")
    y = gd.placeholder((None,), "int64", name="y")
    w1 = gd.Variable((rng.standard_normal((inputs, hidden)) * 0.05).astype("float32"))
    b1 = gd.Variable(np.zeros(hidden, "float32"))
    w2 = gd.Variable((rng.standard_normal((hidden, classes)) * 0.05).astype("float32"))
    b2 = gd.Variable(np.zeros(classes, "float32"))
    loss = gd.mean(gd.sparse_softmax_cross_entropy(gd.relu(x @ w1 + b1) @ w2 + b2, y))
    params = [w1, b1, w2, b2]
    feeds = {x: rng.standard_normal((batch, inputs)).astype("float32"),
             y: rng.integers(0, classes, batch)}
    return loss, params, feeds


def cnn(batch, side=28, filters=32, classes=10):
    rng = np.random.default_rng(0)
    x = gd.placeholder((None, 1, side, side), name="x")
    y = gd.placeholder((None,), "int64", name="y")
    k = gd.Variable((rng.standard_normal((filters, 1, 3, 3)) * 0.2).astype("float32"))
    flat = filters * (side // 2) ** 2
    w = gd.Variable((rng.standard_normal((flat, classes)) * 0.01).astype("float32"))
    h = gd.max_pool2d(gd.relu(gd.conv2d(x, k, padding="same")), 2)
    loss = gd.mean(gd.sparse_softmax_cross_entropy(gd.flatten(h) @ w, y))
    feeds = {x: rng.standard_normal((batch, 1, side, side)).astype("float32"),
             y: rng.integers(0, classes, batch)}
    return loss, [k, w], feeds


def graphdl_step(build, batch, tiny):
    g = gd.Graph(seed=0)
    with g.as_default():
        loss, params, feeds = build(batch, **tiny)
        grads = gd.gradients(loss, params)
        step = gd.group(*[gd.assign_sub(p, 0.01 * gr) for p, gr in zip(params, grads)])
    sess = gd.Session(g, backend="cuda", seed=0)
    run = sess.run
    run([loss, step], feeds)  # compile

    def once():
        return run([loss, step], feeds)[0]  # copies the loss back: synchronizes
    return once, sess


def torch_step(kind, batch, tiny):
    import torch  # noqa: PLC0415
    dev = "cuda"
    torch.manual_seed(0)
    if kind == "mlp":
        inputs, hidden = tiny.get("inputs", 784), tiny.get("hidden", 128)
        model = torch.nn.Sequential(torch.nn.Linear(inputs, hidden), torch.nn.ReLU(),
                                    torch.nn.Linear(hidden, 10)).to(dev)
        x = torch.randn(batch, inputs, device=dev)
    else:
        side, filters = tiny.get("side", 28), tiny.get("filters", 32)
        model = torch.nn.Sequential(torch.nn.Conv2d(1, filters, 3, padding=1),
                                    torch.nn.ReLU(), torch.nn.MaxPool2d(2),
                                    torch.nn.Flatten(),
                                    torch.nn.Linear(filters * (side // 2) ** 2, 10)).to(dev)
        x = torch.randn(batch, 1, side, side, device=dev)
    y = torch.randint(0, 10, (batch,), device=dev)
    opt = torch.optim.SGD(model.parameters(), lr=0.01)

    def once():
        opt.zero_grad(set_to_none=True)
        loss = torch.nn.functional.cross_entropy(model(x), y)
        loss.backward()
        opt.step()
        return loss.item()  # synchronizes, like graphdl's fetch
    return once


def median_ms(fn, reps):
    times = []
    for _ in range(reps):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return statistics.median(times) * 1e3


def host_ms(build, batch, tiny, reps):
    """Host time of one step: the run's Python side (feeds, launches, commit) for a
    run that fetches nothing, so nothing waits for the GPU except checks that must
    (the label-range flag); the device is synchronized before each timing."""
    from numba import cuda  # noqa: PLC0415
    g = gd.Graph(seed=0)
    with g.as_default():
        loss, params, feeds = build(batch, **tiny)
        grads = gd.gradients(loss, params)
        step = gd.group(*[gd.assign_sub(p, 0.01 * gr) for p, gr in zip(params, grads)])
    sess = gd.Session(g, backend="cuda", seed=0)
    sess.run(step, feeds)
    times = []
    for _ in range(reps):
        cuda.synchronize()
        t = time.perf_counter()
        sess.run(step, feeds)
        times.append(time.perf_counter() - t)
    cuda.synchronize()
    return statistics.median(times) * 1e3


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--tiny", action="store_true", help="tiny shapes (smoke test)")
    ap.add_argument("--reps", type=int, default=50)
    args = ap.parse_args()
    cases = [("mlp", mlp, 128, {}), ("cnn", cnn, 64, {})]
    if args.tiny:
        cases = [("mlp", mlp, 4, {"inputs": 6, "hidden": 5}),
                 ("cnn", cnn, 2, {"side": 6, "filters": 2})]
        args.reps = min(args.reps, 2)
    try:
        import torch  # noqa: PLC0415
        have_torch = torch.cuda.is_available()
    except ImportError:
        have_torch = False
    print(f"{'step':6} {'graphdl ms':>11} {'torch ms':>9} {'ratio':>6} {'host ms':>8}")
    for name, build, batch, tiny in cases:
        ours, _ = graphdl_step(build, batch, tiny)
        peer = torch_step(name, batch, tiny) if have_torch else None
        if peer:
            peer()
        ours_t, peer_t = [], []
        for _ in range(3):  # interleaved rounds, medians of medians
            ours_t.append(median_ms(ours, args.reps))
            if peer:
                peer_t.append(median_ms(peer, args.reps))
        o = statistics.median(ours_t)
        p = statistics.median(peer_t) if peer_t else float("nan")
        h = host_ms(build, batch, tiny, args.reps)
        print(f"{name}b{batch:<3} {o:11.3f} {p:9.3f} {o / p:6.2f} {h:8.3f}")
    if not have_torch:
        print("(no CUDA PyTorch here: peer not measured)")


if __name__ == "__main__":
    main()
