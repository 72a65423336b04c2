"""Benchmark: the CPU conv/pool library kernels (graphdl/backends/numba_cpu/kernels/conv.py).

1. Compile time (CPU seconds) of each kernel (float32) in a fresh process with an empty Numba
   cache, then the time to load each from that cache in a second process.
2. Run time at the Keras MNIST CNN's shapes (batch 64: conv32 3x3 on 1x28x28,
   max-pool 2 on 32x26x26, conv64 3x3 on 32x13x13, max-pool 2 on 64x11x11) against
   the op's NumPy reference ``forward`` and PyTorch (if installed), interleaved,
   medians of ``--repeats`` calls. ``--threads`` limits BLAS and PyTorch. On a busy
   machine ``--cpu-min`` reports each call's least thread CPU time instead (time spent
   descheduled does not count; cache and memory contention still do).

    python bench/bench_conv_kernels.py [--repeats 15] [--threads 1] [--no-compile] [--cpu-min]
"""

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

import numpy as np

KERNELS = ["axis_geometry", "conv2d", "conv2d_backprop_input", "conv2d_backprop_filter",
           "max_pool2d", "max_pool2d_backprop", "max_pool2d_gather", "avg_pool2d",
           "avg_pool2d_backprop"]


def _small_calls(K):
    """One call per kernel on tiny float32 arrays (the compile is what is timed)."""
    f = np.float32
    x, w = np.ones((2, 3, 8, 8), f), np.ones((4, 3, 3, 3), f)
    y, p = np.empty((2, 4, 6, 6), f), np.empty((2, 3, 4, 4), f)
    dx, dw = np.empty_like(x), np.empty_like(w)
    pool = (2, 2, 2, 2, 0, 0)
    return {"axis_geometry": lambda: K.axis_geometry(8, 3, 1, 0, 0, 0),
            "conv2d": lambda: K.conv2d(x, w, y, 1, 1, 0, 0),
            "conv2d_backprop_input": lambda: K.conv2d_backprop_input(y, w, dx, 1, 1, 0, 0),
            "conv2d_backprop_filter": lambda: K.conv2d_backprop_filter(x, y, dw, 1, 1, 0, 0),
            "max_pool2d": lambda: K.max_pool2d(x, p, *pool),
            "max_pool2d_backprop": lambda: K.max_pool2d_backprop(x, p, dx, *pool),
            "max_pool2d_gather": lambda: K.max_pool2d_gather(x, x, p, *pool),
            "avg_pool2d": lambda: K.avg_pool2d(x, p, *pool),
            "avg_pool2d_backprop": lambda: K.avg_pool2d_backprop(p, dx, *pool)}


def compile_child():
    """In a fresh process: CPU seconds of the first call of each kernel, in order
    (CPU time: the wall clock of a compile on a shared machine says little)."""
    t0 = time.process_time()
    from graphdl.backends.numba_cpu.kernels import conv as K  # noqa: PLC0415

    times = {"import": time.process_time() - t0}
    from graphdl.backends.numba_cpu.kernels import library  # noqa: PLC0415
    t = time.process_time()
    library.ensure("gemm", "float32")  # the convolutions call it by address
    times["gemm"] = time.process_time() - t
    for name, call in _small_calls(K).items():
        t = time.process_time()
        call()
        times[name] = time.process_time() - t
    print(json.dumps(times))


def compile_times():
    cache = tempfile.mkdtemp(prefix="graphdl-kernels-")
    env = dict(os.environ, NUMBA_CACHE_DIR=cache)
    runs = []
    try:
        for _ in ("cold", "cached"):
            out = subprocess.run([sys.executable, __file__, "--compile-child"], env=env,
                                 capture_output=True, text=True, check=True).stdout
            runs.append(json.loads(out.strip().splitlines()[-1]))
    finally:
        shutil.rmtree(cache, ignore_errors=True)
    return runs


CPU_MIN = []  # set by --cpu-min: least thread CPU time instead of the median wall time


def _median_ms(fn, repeats):
    fn()
    clock = time.thread_time if CPU_MIN else time.perf_counter
    times = []
    for _ in range(repeats):
        t = clock()
        fn()
        times.append(clock() - t)
    return 1e3 * (min(times) if CPU_MIN else statistics.median(times))


def run_times(repeats, threads):
    from graphdl.backends.numba_cpu.kernels import conv as K  # noqa: PLC0415
    from graphdl.backends.numba_cpu.kernels import library  # noqa: PLC0415
    from graphdl.ops import conv as ops  # noqa: PLC0415
    for dtype in library.DTYPES:  # the convolutions call gemm by address
        library.ensure("gemm", dtype)
    try:
        import torch  # noqa: PLC0415
        import torch.nn.functional as F  # noqa: PLC0415
        torch.set_num_threads(threads)
    except ImportError:
        torch = None
    rng = np.random.default_rng(0)
    rows = []
    for c, hw, o in ((1, 28, 32), (32, 13, 64)):
        x = rng.standard_normal((64, c, hw, hw)).astype("float32")
        w = rng.standard_normal((o, c, 3, 3)).astype("float32")
        y = np.empty((64, o, hw - 2, hw - 2), "float32")
        g = rng.standard_normal(y.shape).astype("float32")
        dx, dw = np.empty_like(x), np.empty_like(w)
        pooled = np.empty((64, o, (hw - 2) // 2, (hw - 2) // 2), "float32")
        gp = rng.standard_normal(pooled.shape).astype("float32")
        s, v = (1, 1), "valid"
        cases = [
            (f"conv2d {c}->{o} {hw}x{hw}", lambda: K.conv2d(x, w, y, 1, 1, 0, 0),
             lambda: ops.CONV2D.forward(x, w, s, v), "fwd"),
            (f"conv2d_backprop_input {c}->{o}", lambda: K.conv2d_backprop_input(
                g, w, dx, 1, 1, 0, 0), lambda: ops.CONV2D_BACKPROP_INPUT.forward(g, w, x, s, v),
             "bi"),
            (f"conv2d_backprop_filter {c}->{o}", lambda: K.conv2d_backprop_filter(
                x, g, dw, 1, 1, 0, 0), lambda: ops.CONV2D_BACKPROP_FILTER.forward(x, g, w, s, v),
             "bf"),
            (f"max_pool2d 2x2 on {o}x{hw - 2}x{hw - 2}", lambda: K.max_pool2d(
                y, pooled, 2, 2, 2, 2, 0, 0), lambda: ops.MAX_POOL2D.forward(y, (2, 2), (2, 2), v),
             "pool"),
            (f"max_pool2d_backprop on {o}x{hw - 2}x{hw - 2}", lambda: K.max_pool2d_backprop(
                y, gp, g, 2, 2, 2, 2, 0, 0),
             lambda: ops.MAX_POOL2D_BACKPROP.forward(y, gp, (2, 2), (2, 2), v), "poolb"),
        ]
        if torch is not None:
            tx, tw, tg, ty, tgp = map(torch.from_numpy, (x, w, g, y, gp))
            peers = {
                "fwd": lambda: F.conv2d(tx, tw),
                "bi": lambda: torch.nn.grad.conv2d_input(tx.shape, tw, tg),
                "bf": lambda: torch.nn.grad.conv2d_weight(tx, tw.shape, tg),
                "pool": lambda: F.max_pool2d(ty, 2),
                "poolb": lambda: torch.ops.aten.max_pool2d_with_indices_backward(
                    tgp, ty, [2, 2], [2, 2], [0, 0], [1, 1], False,
                    F.max_pool2d(ty, 2, return_indices=True)[1]),
            }
        for label, kernel, reference, kind in cases:
            row = {"case": label, "kernel_ms": _median_ms(kernel, repeats),
                   "reference_ms": _median_ms(reference, max(3, repeats // 3))}
            if torch is not None:
                row["torch_ms"] = _median_ms(peers[kind], repeats)
            rows.append(row)
    return rows


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--repeats", type=int, default=15)
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--no-compile", action="store_true")
    p.add_argument("--cpu-min", action="store_true",
                   help="least thread CPU time per call instead of the median wall time")
    p.add_argument("--compile-child", action="store_true")
    args = p.parse_args(argv)
    if args.compile_child:
        return compile_child()
    if args.cpu_min:
        CPU_MIN.append(True)
    try:  # BLAS threads (NumPy's and SciPy's OpenBLAS)
        import scipy.linalg  # noqa: F401,PLC0415 (load SciPy's BLAS so the limit reaches it)
        from threadpoolctl import threadpool_limits  # noqa: PLC0415
        limiter = threadpool_limits(args.threads)  # noqa: F841 (kept for the run)
    except ImportError:
        os.environ.setdefault("OPENBLAS_NUM_THREADS", str(args.threads))
    if not args.no_compile:
        cold, cached = compile_times()
        print("kernel (float32)      CPU s: compile   load from cache")
        for name in ["import", "gemm", *KERNELS]:
            print(f"  {name:24s} {cold[name]:8.2f}   {cached[name]:8.3f}")
        total = (sum(cold[k] for k in ["gemm", *KERNELS]),
                 sum(cached[k] for k in ["gemm", *KERNELS]))
        print(f"  {'all kernels':24s} {total[0]:8.2f}   {total[1]:8.3f}")
    stat = "least thread CPU time" if args.cpu_min else "medians"
    print(f"\nrun time at the MNIST CNN's shapes, batch 64, {args.threads} thread(s), {stat}")
    print(f"  {'case':40s} {'kernel':>9s} {'reference':>10s} {'torch':>9s}")
    for r in run_times(args.repeats, args.threads):
        torch_ms = f"{r['torch_ms']:7.2f}ms" if "torch_ms" in r else "      -"
        print(f"  {r['case']:40s} {r['kernel_ms']:7.2f}ms {r['reference_ms']:8.2f}ms "
              f"{torch_ms}")
    return None


if __name__ == "__main__":
    main()
