"""Benchmark: one training step (forward, backward, SGD update) on graphdl's backends
and on peers, plus the cold first run.

Workloads (float32, SGD with lr 0.01, mean softmax cross-entropy on int labels):

* ``mlp128``: MLP 784-128-10 (relu), batch 128;
* ``mlp1``:   the same at batch 1 (the Python path of a run dominates);
* ``cnn64``:  the Keras MNIST CNN: conv32-3x3 relu, maxpool2, conv64-3x3 relu,
  maxpool2, flatten, dense10, batch 64 (NCHW/OIHW).

Contestants: ``graphdl-<backend>`` for every registered backend; PyTorch eager
(CPU, ``torch.optim.SGD``); NumPy written by hand (MLP
only) and its two big matmuls alone (``numpy-matmuls``: ``x @ W1`` and
``x.T @ dh``, the floor of the MLP step); JAX ``jit`` and PyTensor
(``pytensor.function`` with updates, Numba mode) when installed. A peer
that is not installed, or a workload it cannot express, is skipped with the
reason. Every contestant starts from the same weights and data; the first-step
losses are compared, so a wrong graph shows up as ``LOSS MISMATCH``.

Threads: every library gets ``--threads`` (2, the machine's cores): BLAS through
threadpoolctl, PyTorch's intra-op pool, XLA's. On a machine shared with other
work, multi-threaded BLAS can stall badly (a thread descheduled mid-GEMM);
``--threads 1`` gives steadier ratios there.

Method: runs alternate in blocks (``--block`` timed steps per contestant after a
warm-up, order rotated each of ``--rounds`` rounds): alternating every call would
make two libraries' spinning thread pools fight over the cores. Reported: the
median step time over all timed steps and the ratio to PyTorch measured in the
same run. The machine is shared and noisy: read the ratios.

Cold start (``--cold``, on by default except in ``--quick``): a fresh Python process
per contestant and workload (``--cold-workloads`` mlp128,cnn64, if run) with
empty cache directories (``GRAPHDL_CACHE_DIR``, ``NUMBA_CACHE_DIR``, PyTensor's
compiledir); reported is the time from spawning the
process to the first step's result, and the same for a second process that finds
the caches filled ("warm"), also counted from after ``import graphdl``.

Writes a table to stdout and JSON to ``--json`` (default out/bench_train.json).

    python bench/bench_train.py [--quick] [--rounds 7] [--block 20]
        [--contestants graphdl-numpy,torch] [--workloads mlp128,cnn64] [--no-cold]
"""

import argparse
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

LR = 0.01
WORKLOADS = ("mlp128", "mlp1", "cnn64")
COLD_WORKLOADS = ("mlp128", "cnn64")
DEFAULTS = {"rounds": 7, "block": 20, "warmup": 3}
QUICK = {"rounds": 1, "block": 3, "warmup": 1}
PYTENSOR_MODE = "NUMBA"  # its C mode finds no BLAS on a plain machine (100x slower)
SLOW_BLOCK = 0.25  # seconds: a block of a slow contestant stops early after this long


class Skip(Exception):
    """A contestant cannot run a workload here (not installed, op missing)."""


# -- data and weights, shared by every contestant --------------------------------------
def make_data(workload, seed=0):
    """Inputs, int labels and initial weights (a list of float32 arrays)."""
    rng = np.random.default_rng(seed)

    def glorot(shape, fan_in, fan_out):
        limit = np.sqrt(6.0 / (fan_in + fan_out))
        return rng.uniform(-limit, limit, shape).astype("float32")

    if workload.startswith("mlp"):
        batch = int(workload[3:])
        x = rng.random((batch, 784), dtype="float32")
        params = [glorot((784, 128), 784, 128), np.zeros(128, "float32"),
                  glorot((128, 10), 128, 10), np.zeros(10, "float32")]
    elif workload == "cnn64":
        batch = 64
        x = rng.random((batch, 1, 28, 28), dtype="float32")
        params = [glorot((32, 1, 3, 3), 9, 288), np.zeros(32, "float32"),
                  glorot((64, 32, 3, 3), 288, 576), np.zeros(64, "float32"),
                  glorot((1600, 10), 1600, 10), np.zeros(10, "float32")]
    else:
        raise ValueError(f"unknown workload {workload!r}; choose from {WORKLOADS}")
    y = rng.integers(0, 10, batch).astype("int64")
    return x, y, params


# -- contestants: setup(workload, x, y, params) -> step() returning the loss -----------
def graphdl_setup(backend):
    def setup(workload, x, y, params):
        import graphdl as gd  # noqa: PLC0415 (timed by the cold runs)

        graph = gd.Graph(seed=0)
        with graph.as_default():
            xs = gd.placeholder((None, *x.shape[1:]), "float32", name="x")
            ys = gd.placeholder((None,), "int64", name="y")
            ws = [gd.Variable(p.copy(), name=f"p{i}") for i, p in enumerate(params)]
            if workload.startswith("mlp"):
                h = gd.relu(xs @ ws[0] + ws[1])
                logits = h @ ws[2] + ws[3]
            else:
                h = gd.relu(gd.conv2d(xs, ws[0]) + gd.reshape(ws[1], (1, 32, 1, 1)))
                h = gd.max_pool2d(h, 2)
                h = gd.relu(gd.conv2d(h, ws[2]) + gd.reshape(ws[3], (1, 64, 1, 1)))
                h = gd.flatten(gd.max_pool2d(h, 2))
                logits = h @ ws[4] + ws[5]
            loss = gd.mean(gd.sparse_softmax_cross_entropy(logits, ys))
            grads = gd.gradients(loss, ws)
            train = gd.group(*[gd.assign_sub(w, LR * g) for w, g in zip(ws, grads)])
        sess = gd.Session(graph, backend=backend, seed=0)
        feeds = {xs: x, ys: y}
        return lambda: sess.run([loss, train], feeds)[0]
    return setup


def torch_setup(threads):
    def setup(workload, x, y, params):
        try:
            import torch  # noqa: PLC0415
            import torch.nn.functional as F  # noqa: PLC0415
        except ImportError as exc:
            raise Skip(f"{exc.name} is not installed (pip install -e '.[bench]')") from exc
        torch.set_num_threads(threads)
        ps = [torch.tensor(p, requires_grad=True) for p in params]
        xt, yt = torch.from_numpy(x), torch.from_numpy(y)
        opt = torch.optim.SGD(ps, lr=LR)

        def forward():
            if workload.startswith("mlp"):
                return torch.relu(xt @ ps[0] + ps[1]) @ ps[2] + ps[3]
            h = F.max_pool2d(torch.relu(F.conv2d(xt, ps[0], ps[1])), 2)
            h = F.max_pool2d(torch.relu(F.conv2d(h, ps[2], ps[3])), 2)
            return h.flatten(1) @ ps[4] + ps[5]

        def step():
            opt.zero_grad()
            loss = F.cross_entropy(forward(), yt)
            loss.backward()
            opt.step()
            return loss.item()
        return step
    return setup


def _numpy_mlp(x, y, params):
    w1, b1, w2, b2 = (p.copy() for p in params)  # updated in place
    n = len(x)
    h = np.empty((n, 128), "float32")
    dw1 = np.empty_like(w1)
    lr = np.float32(LR)

    def step():
        np.dot(x, w1, out=h)
        np.add(h, b1, out=h)
        np.maximum(h, 0, out=h)
        z = h @ w2 + b2
        z -= z.max(axis=1, keepdims=True)
        e = np.exp(z)
        s = e.sum(axis=1, keepdims=True)
        loss = float(np.mean(np.log(s[:, 0]) - z[np.arange(n), y]))
        dz = e / s
        dz[np.arange(n), y] -= 1
        dz /= n
        dw2 = h.T @ dz
        dh = dz @ w2.T
        dh *= h > 0
        np.dot(x.T, dh, out=dw1)
        np.subtract(w1, lr * dw1, out=w1)
        np.subtract(b1, lr * dh.sum(axis=0), out=b1)
        np.subtract(w2, lr * dw2, out=w2)
        np.subtract(b2, lr * dz.sum(axis=0), out=b2)
        return loss
    return step


def numpy_setup(workload, x, y, params):
    if not workload.startswith("mlp"):
        raise Skip("NumPy by hand is written for the MLP only")
    return _numpy_mlp(x, y, params)


def numpy_matmuls_setup(workload, x, y, params):
    """The MLP step's two big matmuls alone (x @ W1, x.T @ dh): its floor."""
    if not workload.startswith("mlp"):
        raise Skip("the matmul floor is defined for the MLP only")
    w1 = params[0]
    h, dw1 = np.empty((len(x), 128), "float32"), np.empty_like(w1)
    dh = np.ones((len(x), 128), "float32")

    def step():
        np.dot(x, w1, out=h)
        np.dot(x.T, dh, out=dw1)
        return float("nan")  # no loss: not compared
    return step


def jax_setup(workload, x, y, params):
    os.environ.setdefault("JAX_PLATFORMS", "cpu")
    try:
        import jax  # noqa: PLC0415
        import jax.numpy as jnp  # noqa: PLC0415
    except ImportError as exc:
        raise Skip(f"{exc.name} is not installed (pip install -e '.[bench]')") from exc

    def forward(ps, xb):
        if workload.startswith("mlp"):
            return jax.nn.relu(xb @ ps[0] + ps[1]) @ ps[2] + ps[3]
        dn = ("NCHW", "OIHW", "NCHW")

        def block(h, k, b):
            h = jax.lax.conv_general_dilated(h, k, (1, 1), "VALID", dimension_numbers=dn)
            h = jax.nn.relu(h + b[None, :, None, None])
            return jax.lax.reduce_window(h, -jnp.inf, jax.lax.max, (1, 1, 2, 2),
                                         (1, 1, 2, 2), "VALID")
        h = block(block(xb, ps[0], ps[1]), ps[2], ps[3])
        return h.reshape(h.shape[0], -1) @ ps[4] + ps[5]

    def loss_fn(ps, xb, yb):
        logits = forward(ps, xb)
        return jnp.mean(jax.nn.logsumexp(logits, axis=1) - logits[jnp.arange(len(yb)), yb])

    @jax.jit
    def train(ps, xb, yb):
        loss, grads = jax.value_and_grad(loss_fn)(ps, xb, yb)
        return [p - LR * g for p, g in zip(ps, grads)], loss

    state = {"ps": [jnp.asarray(p) for p in params]}
    xj, yj = jnp.asarray(x), jnp.asarray(y)

    def step():
        state["ps"], loss = train(state["ps"], xj, yj)
        return float(loss)  # blocks until the step is done
    return step


def pytensor_setup(workload, x, y, params):
    try:
        import pytensor  # noqa: PLC0415
        import pytensor.tensor as pt  # noqa: PLC0415
    except ImportError as exc:
        raise Skip(f"{exc.name} is not installed (pip install -e '.[bench]')") from exc
    ps = [pytensor.shared(p.copy(), name=f"p{i}") for i, p in enumerate(params)]
    xs = pt.tensor("x", dtype="float32", shape=(None, *x.shape[1:]))
    ys = pt.vector("y", dtype="int64")
    if workload.startswith("mlp"):
        logits = pt.maximum(xs @ ps[0] + ps[1], 0) @ ps[2] + ps[3]
    else:
        try:
            from pytensor.tensor.conv import conv2d  # noqa: PLC0415
            from pytensor.tensor.signal.pool import pool_2d  # noqa: PLC0415
        except ImportError as exc:
            raise Skip(f"PyTensor {pytensor.__version__} has no 2-D conv/pool ops") from exc

        def block(h, k, b):
            h = pt.maximum(conv2d(h, k, border_mode="valid") + b.dimshuffle("x", 0, "x", "x"), 0)
            return pool_2d(h, (2, 2), ignore_border=True)
        h = block(block(xs, ps[0], ps[1]), ps[2], ps[3])
        logits = h.flatten(2) @ ps[4] + ps[5]
    z = logits - logits.max(axis=1, keepdims=True)
    loss = pt.mean(pt.log(pt.exp(z).sum(axis=1)) - z[pt.arange(ys.shape[0]), ys])
    grads = pytensor.grad(loss, ps)
    lr = np.float32(LR)  # a Python float would upcast the updates to float64
    fn = pytensor.function([xs, ys], loss, updates=[(p, p - lr * g) for p, g in zip(ps, grads)],
                           mode=PYTENSOR_MODE)
    return lambda: float(fn(x, y))


def contestants(threads, with_graphdl=True):
    """Name -> setup, graphdl's registered backends first."""
    table = {}
    if with_graphdl:
        from graphdl.backends import available_backends  # noqa: PLC0415

        table = {f"graphdl-{b}": graphdl_setup(b) for b in available_backends()}
    table.update({"torch": torch_setup(threads), "numpy": numpy_setup,
                  "numpy-matmuls": numpy_matmuls_setup, "jax": jax_setup,
                  "pytensor": pytensor_setup})
    return table


# -- timing -------------------------------------------------------------------------
def measure(steps, rounds, block, warmup):
    """Median seconds per step of each step function, alternating in blocks."""
    names = list(steps)
    samples = {n: [] for n in names}
    for r in range(rounds):
        for n in names[r % len(names):] + names[:r % len(names)]:  # rotate the order
            for _ in range(warmup):
                steps[n]()
            begin = time.perf_counter()
            for _ in range(block):
                t0 = time.perf_counter()
                steps[n]()
                samples[n].append(time.perf_counter() - t0)
                if t0 - begin > SLOW_BLOCK:
                    break
    return {n: {"median_ms": 1e3 * statistics.median(s),
                "q1_ms": 1e3 * float(np.percentile(s, 25)),
                "q3_ms": 1e3 * float(np.percentile(s, 75)), "steps": len(s)}
            for n, s in samples.items()}


def run_workload(workload, table, names, args, log):
    x, y, params = make_data(workload)
    steps, result, skipped = {}, {}, {}
    for name in names:
        try:
            step = table[name](workload, x, y, params)
            t0 = time.perf_counter()
            loss0 = step()  # the first step: compiles, and checks the loss
            result[name] = {"first_step_s": time.perf_counter() - t0, "loss0": loss0}
            steps[name] = step
        except Skip as exc:
            skipped[name] = str(exc)
        except Exception as exc:  # a backend that fails here is reported, not fatal
            skipped[name] = f"failed: {type(exc).__name__}: {exc}"
    for name, stats in measure(steps, args.rounds, args.block, args.warmup).items():
        result[name].update(stats)
    _compare(result, log)
    return result, skipped


def _compare(result, log):
    """Ratios to PyTorch (else to NumPy by hand) and the loss check."""
    base = "torch" if "torch" in result else "numpy" if "numpy" in result else None
    losses = [r["loss0"] for r in result.values() if np.isfinite(r["loss0"])]
    ref = result[base]["loss0"] if base else statistics.median(losses or [np.nan])
    for r in result.values():
        r["baseline"] = base
        r["ratio"] = r["median_ms"] / result[base]["median_ms"] if base else None
        r["loss_ok"] = bool(not np.isfinite(r["loss0"]) or abs(r["loss0"] - ref)
                            <= 1e-3 * max(1.0, abs(ref)))


# -- cold start: a fresh process -------------------------------------------------------
def cold_child(name, workload, threads):
    """Runs in the child: time to the first step's result (printed as JSON)."""
    started = time.time()
    ours = name.startswith("graphdl-")
    if ours:
        import graphdl  # noqa: F401,PLC0415

    imported = time.time()
    # only this contestant's setup: listing every backend would import the others
    # (the cuda backend imports numba.cuda), which is not this contestant's start-up
    setup = (graphdl_setup(name.removeprefix("graphdl-")) if ours
             else contestants(threads, with_graphdl=False)[name])
    x, y, params = make_data(workload)
    setup(workload, x, y, params)()
    done = time.time()
    print(json.dumps({"t_done": done, "after_import_s": done - imported,
                      "in_process_s": done - started}))


def cold(name, workload, threads, log):
    """(cold, warm) dicts: a process with empty caches, then one that finds them."""
    tmp = Path(tempfile.mkdtemp(prefix="graphdl-cold-"))
    env = dict(os.environ, GRAPHDL_CACHE_DIR=str(tmp / "graphdl"),
               NUMBA_CACHE_DIR=str(tmp / "numba"),
               PYTENSOR_FLAGS=f"compiledir={tmp / 'pytensor'}", JAX_PLATFORMS="cpu")
    cmd = [sys.executable, str(Path(__file__).resolve()), "--cold-child", name, workload,
           "--threads", str(threads)]
    runs = []
    try:
        for _ in ("cold", "warm"):
            spawned = time.time()
            proc = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=600)
            if proc.returncode != 0:
                tail = (proc.stderr.strip().splitlines() or ["?"])[-1]
                return {"error": tail[:300]}
            child = json.loads(proc.stdout.strip().splitlines()[-1])
            runs.append({"total_s": child["t_done"] - spawned,
                         "after_import_s": child["after_import_s"]})
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return {"cold": runs[0], "warm": runs[1]}


# -- report ---------------------------------------------------------------------------
def print_table(workload, result, skipped, log):
    log(f"\n{workload}: median step time (IQR), ratio to the baseline in this run")
    for name, r in sorted(result.items(), key=lambda kv: kv[1]["median_ms"]):
        ratio = f"{r['ratio']:.2f}x {r['baseline']}" if r["ratio"] is not None else ""
        flag = "" if r["loss_ok"] else f"   LOSS MISMATCH (loss0 {r['loss0']:.6g})"
        log(f"  {name:16s} {r['median_ms']:9.3f} ms  ({r['q1_ms']:.3f}-{r['q3_ms']:.3f})"
            f"  {ratio:14s} first step {r['first_step_s']:.2f} s{flag}")
    for name, why in skipped.items():
        log(f"  {name:16s} skipped: {why}")


def machine():
    return {"cpus": os.cpu_count(), "platform": platform.platform(),
            "python": platform.python_version(), "numpy": np.__version__,
            "date_utc": time.strftime("%Y-%m-%d %H:%M", time.gmtime())}


def parse_args(argv):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--quick", action="store_true", help="smoke run: 1 round, no cold start")
    p.add_argument("--rounds", type=int)
    p.add_argument("--block", type=int)
    p.add_argument("--warmup", type=int)
    p.add_argument("--threads", type=int, default=2,
                   help="threads for every library (BLAS, PyTorch, XLA)")
    p.add_argument("--contestants", default="", help="comma-separated names (default all)")
    p.add_argument("--workloads", default=",".join(WORKLOADS))
    p.add_argument("--cold", dest="cold", action="store_true", default=None)
    p.add_argument("--no-cold", dest="cold", action="store_false")
    p.add_argument("--cold-workloads", default=",".join(COLD_WORKLOADS),
                   help="the workloads timed cold (those of them that are run)")
    p.add_argument("--json", default="out/bench_train.json")
    p.add_argument("--cold-child", nargs=2, metavar=("CONTESTANT", "WORKLOAD"))
    args = p.parse_args(argv)
    preset = QUICK if args.quick else DEFAULTS
    for key, value in preset.items():
        if getattr(args, key) is None:
            setattr(args, key, value)
    if args.cold is None:
        args.cold = not args.quick
    return args


def limit_threads(threads):
    """Every library computes with ``threads`` threads: NumPy's and SciPy's BLAS
    (threadpoolctl, when installed), PyTorch (set in its setup), XLA (flags set
    before JAX is imported)."""
    if threads == 1:
        os.environ.setdefault("XLA_FLAGS", "--xla_cpu_multi_thread_eigen=false "
                              "intra_op_parallelism_threads=1")
    try:
        from threadpoolctl import threadpool_limits  # noqa: PLC0415
    except ImportError:
        return None
    return threadpool_limits(threads)


def main(argv=None, log=print):
    args = parse_args(argv)
    limiter = limit_threads(args.threads)  # noqa: F841 (kept alive for the run)
    if args.cold_child:
        cold_child(*args.cold_child, args.threads)
        return None
    table = contestants(args.threads)
    names = [n for n in args.contestants.split(",") if n] or list(table)
    unknown = [n for n in names if n not in table]
    if unknown:
        raise SystemExit(f"unknown contestant(s) {unknown}; choose from {list(table)}")
    report = {"machine": machine(), "settings": {k: getattr(args, k) for k in
                                                 ("rounds", "block", "warmup", "threads")},
              "workloads": {}, "skipped": {}, "cold": {}}
    log(f"bench_train: {report['machine']}, {report['settings']}")
    for workload in [w for w in args.workloads.split(",") if w]:
        result, skipped = run_workload(workload, table, names, args, log)
        report["workloads"][workload] = result
        report["skipped"][workload] = skipped
        print_table(workload, result, skipped, log)
    if args.cold:
        log("\ncold start: spawn -> first step result; empty caches, then a second process")
        for workload in [w for w in args.cold_workloads.split(",") if w in report["workloads"]]:
            for name in names:
                if name == "numpy-matmuls" or name not in report["workloads"][workload]:
                    continue  # no step to time, or it cannot run this workload
                r = cold(name, workload, args.threads, log)
                report["cold"].setdefault(workload, {})[name] = r
                if "error" in r:
                    log(f"  {workload:7s} {name:16s} failed: {r['error']}")
                    continue
                log(f"  {workload:7s} {name:16s} cold {r['cold']['total_s']:6.2f} s   "
                    f"second process {r['warm']['total_s']:5.2f} s "
                    f"({r['warm']['after_import_s']:.2f} s after imports)")
    if args.json:
        path = Path(args.json)
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(".tmp")
        tmp.write_text(json.dumps(report, indent=1, default=float))
        os.replace(tmp, path)  # atomic
        log(f"\nwrote {path}")
    return report


if __name__ == "__main__":
    main()
