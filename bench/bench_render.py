"""Benchmark: ``gd.render`` on large graphs, with torchviz as a peer.

Builds a deep MLP training graph (a name scope per dense layer, a loss,
``gd.gradients``, SGD updates in a ``gd.group``) and a conv net, and times,
interleaved over repeated rounds (medians; the machine is shared and noisy, so
read the ratios against the peer measured in the same run):

* DOT build: ``gd.render(graph)``, graphdl's own Python (scene and DOT text);
* SVG: ``gd.render(graph, path="x.svg")``, the DOT build plus Graphviz ``dot``;

for several render options, and torchviz's ``make_dot`` on the same network in
PyTorch (``.source``; ``.pipe(format="svg")`` written to a file). The peer is
optional. A picture that ``dot`` cannot lay out within ``--budget`` seconds
(probed once in a subprocess that is then killed) is reported as such.

    .venv/bin/python bench/bench_render.py [--layers 40] [--repeats 5] [--quick]
"""

import argparse
import re
import statistics
import subprocess
import tempfile
import time
from pathlib import Path

import numpy as np

import graphdl as gd
from graphdl.viz.scene import build_scene

try:
    import torch
    import torch.nn.functional as F
    import torchviz
except ImportError as exc:  # the peer is optional
    torch = None
    PEER_MISSING = f"{exc.name} is not installed (pip install -e '.[bench]')"

WIDTH, CLASSES = 32, 10
CONFIGS = [  # (name, gd.render options); the first is the default picture
    ("view=all", {}),
    ("view=all depth=1", {"depth": 1}),
    ("view=all edge_labels=False", {"edge_labels": False}),
    ("view=all depth=0", {"depth": 0}),
    ("view=both", {"view": "both"}),
    ("view=backward", {"view": "backward"}),
]
DEFAULTS = {"layers": 40, "conv_blocks": 26, "repeats": 5, "budget": 10.0, "sweep": "5,10,20"}
QUICK = {"layers": 8, "conv_blocks": 4, "repeats": 1, "budget": 5.0, "sweep": "3,6"}

# -- the networks, in graphdl and in PyTorch ---------------------------------------
def train_graph(body, x_shape):
    """A training graph: ``body(h)`` -> (logits, params), loss, gradients, SGD."""
    graph = gd.Graph(seed=0)
    with graph.as_default():
        x = gd.placeholder(x_shape, name="x")
        y = gd.placeholder((None, CLASSES), name="y")
        logits, params = body(x)
        with gd.name_scope("loss"):
            loss = gd.mean(gd.softmax_cross_entropy(logits, y))
        grads = gd.gradients(loss, params)
        with gd.name_scope("sgd"):
            gd.group(*[gd.assign_sub(p, 0.01 * g) for p, g in zip(params, grads)])
    return graph


def gd_mlp(layers):
    def body(h):
        params = []
        for i in range(layers):
            with gd.name_scope(f"layer{i}"):
                w = gd.Variable(gd.initializers.glorot_uniform((WIDTH, WIDTH)), name="W")
                b = gd.Variable(np.zeros(WIDTH, "float32"), name="b")
                h = gd.relu(h @ w + b)
                params += [w, b]
        with gd.name_scope("head"):
            w = gd.Variable(gd.initializers.glorot_uniform((WIDTH, CLASSES)), name="W")
            return h @ w, params + [w]
    return train_graph(body, (None, WIDTH))


def conv_plan(blocks, channels=8, size=32):
    """[(in channels, pool after?)] per block, and the final image side."""
    plan, cin = [], 3
    for i in range(blocks):
        pool = i % 2 == 1 and size > 4
        size //= 2 if pool else 1
        plan.append((cin, pool))
        cin = channels
    return plan, size


def gd_conv(blocks, channels=8):
    plan, side = conv_plan(blocks, channels)

    def body(h):
        params = []
        for i, (cin, pool) in enumerate(plan):
            with gd.name_scope(f"conv{i}"):
                w = gd.Variable(gd.initializers.he_normal((channels, cin, 3, 3)), name="W")
                b = gd.Variable(np.zeros((channels, 1, 1), "float32"), name="b")
                h = gd.relu(gd.conv2d(h, w, 1, "same") + b)
                h = gd.max_pool2d(h, 2, 2, "valid") if pool else h
                params += [w, b]
        with gd.name_scope("head"):
            w = gd.Variable(gd.initializers.glorot_uniform((channels * side**2, CLASSES)),
                            name="W")
            return gd.reshape(h, (-1, channels * side**2)) @ w, params + [w]
    return train_graph(body, (None, 3, 32, 32))


def torch_mlp(layers):
    """(loss, named parameters) of the same MLP in PyTorch, for torchviz."""
    params, h = {}, torch.randn(4, WIDTH)
    for i in range(layers):
        w = params[f"layer{i}.W"] = torch.randn(WIDTH, WIDTH, requires_grad=True)
        b = params[f"layer{i}.b"] = torch.zeros(WIDTH, requires_grad=True)
        h = F.relu(h @ w + b)
    w = params["head.W"] = torch.randn(WIDTH, CLASSES, requires_grad=True)
    return F.cross_entropy(h @ w, torch.tensor([0, 1, 2, 3])), params


def torch_conv(blocks, channels=8):
    plan, side = conv_plan(blocks, channels)
    params, h = {}, torch.randn(2, 3, 32, 32)
    for i, (cin, pool) in enumerate(plan):
        w = params[f"conv{i}.W"] = torch.randn(channels, cin, 3, 3, requires_grad=True)
        b = params[f"conv{i}.b"] = torch.zeros(channels, 1, 1, requires_grad=True)
        h = F.relu(F.conv2d(h, w, padding=1) + b)
        h = F.max_pool2d(h, 2, 2) if pool else h
    w = params["head.W"] = torch.randn(channels * side**2, CLASSES, requires_grad=True)
    return F.cross_entropy(h.reshape(2, -1) @ w, torch.tensor([0, 1])), params


# -- timing --------------------------------------------------------------------------
class Job:
    """One picture: ``build()`` returns DOT text, ``full(path)`` also writes the SVG."""

    def __init__(self, name, build, full, counts):
        self.name, self.build, self.full, self.counts = name, build, full, counts
        self.times, self.svg_ok = {"build": [], "svg": []}, True


def gd_job(graph, name, opts):
    scene = build_scene(graph, **opts)
    return Job(name, lambda: gd.render(graph, **opts),
               lambda path: gd.render(graph, path=path, **opts),
               (len(scene.boxes), len(scene.edges)))


def torchviz_job(loss, params):
    def build():
        return torchviz.make_dot(loss, params=params).source

    def full(path):
        Path(path).write_bytes(torchviz.make_dot(loss, params=params).pipe(format="svg"))

    source = build()
    counts = (len(re.findall(r"^\s*\d+ \[", source, re.M)), source.count(" -> "))
    return Job("torchviz make_dot", build, full, counts)


def fits_budget(source, budget):
    """Does ``dot`` lay out ``source`` within ``budget`` seconds? (also a warm-up)"""
    try:
        subprocess.run(["dot", "-Tsvg", "-o", "/dev/null"], input=source.encode(),
                       timeout=budget, check=True, capture_output=True)
        return True
    except subprocess.TimeoutExpired:
        return False


def measure(jobs, repeats, budget, tmp):
    for job in jobs:
        job.svg_ok = fits_budget(job.build(), budget)
    for r in range(repeats):  # interleaved: every job once per round, order rotated
        for job in jobs[r % len(jobs):] + jobs[:r % len(jobs)]:
            t0 = time.perf_counter()
            job.build()
            t1 = time.perf_counter()
            job.times["build"].append(t1 - t0)
            if job.svg_ok:
                job.full(tmp / "picture.svg")
                job.times["svg"].append(time.perf_counter() - t1)


def med(job, key):
    return statistics.median(job.times[key]) if job.times[key] else None


def ratio(a, b):
    return f"{a / b:8.1f}x" if a is not None and b else "       --"


def seconds(value, budget, width):
    return f"{value:{width - 1}.3f}s" if value is not None else f"{'>' + str(budget):>{width - 1}}s"


def report(title, jobs, peer, budget):
    print(f"\n{title}")
    print(f"{'picture':30} {'boxes':>6} {'edges':>6} {'DOT build':>10} {'vs peer':>9} "
          f"{'SVG':>10} {'vs peer':>9} {'DOT/SVG':>8}")
    for job in jobs:
        build, svg = med(job, "build"), med(job, "svg")
        share = f"{build / svg:7.1%}" if svg else "     --"
        print(f"{job.name:30} {job.counts[0]:6} {job.counts[1]:6} {build * 1e3:8.1f}ms "
              f"{ratio(build, peer and med(peer, 'build'))} {seconds(svg, budget, 10)} "
              f"{ratio(svg, peer and med(peer, 'svg'))} {share:>8}")


def run_model(title, graph, torch_net, configs, args, tmp):
    peer = torchviz_job(*torch_net()) if torch is not None else None
    jobs = [gd_job(graph, name, opts) for name, opts in configs] + ([peer] if peer else [])
    measure(jobs, args.repeats, args.budget, tmp)
    report(f"{title}: {len(graph.nodes)} graph nodes; medians of {args.repeats}", jobs, peer,
           args.budget)


def sweep(sizes, args, tmp):
    """How the default picture's SVG time grows with depth (graphdl view=all vs peer)."""
    print(f"\nscaling of the default picture (view=all) with depth; medians of {args.repeats}")
    print(f"{'layers':>6} {'boxes':>6} {'graphdl SVG':>12} {'torchviz SVG':>13} {'ratio':>9}")
    for layers in sizes:
        mine = gd_job(gd_mlp(layers), "all", {})
        jobs = [mine] + ([torchviz_job(*torch_mlp(layers))] if torch is not None else [])
        measure(jobs, args.repeats, args.budget, tmp)
        peer = jobs[1] if len(jobs) > 1 else None
        svg, peer_svg = med(mine, "svg"), peer and med(peer, "svg")
        peer_text = f"{peer_svg:12.3f}s" if peer_svg else f"{'--':>13}"
        print(f"{layers:6} {mine.counts[0]:6} {seconds(svg, args.budget, 12)} {peer_text} "
              f"{ratio(svg, peer_svg)}")
        if svg is None:
            break


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--layers", type=int, help="dense layers in the MLP (40)")
    parser.add_argument("--conv-blocks", type=int, help="conv blocks, 0 to skip (26)")
    parser.add_argument("--repeats", type=int, help="timed rounds per picture (5)")
    parser.add_argument("--budget", type=float,
                        help="seconds dot may take before a picture counts as too slow (10)")
    parser.add_argument("--sweep", help="MLP depths for the scaling table, '' to skip (5,10,20)")
    parser.add_argument("--quick", action="store_true",
                        help="a smoke run: 8 layers, 4 conv blocks, 1 round, budget 5, sweep 3,6")
    args = parser.parse_args(argv)
    for key, value in (QUICK if args.quick else DEFAULTS).items():
        if getattr(args, key) is None:
            setattr(args, key, value)
    try:
        dot_version = subprocess.run(["dot", "-V"], capture_output=True, text=True).stderr
    except FileNotFoundError:
        raise SystemExit("the Graphviz program `dot` is needed: see docs/rendering.md") from None
    print(f"graphdl {gd.__version__}; {dot_version.strip()}")
    if torch is None:
        print(f"peer skipped: {PEER_MISSING}")
    else:
        print(f"peer: torchviz on torch {torch.__version__}. The pictures differ: torchviz draws "
              "the autograd graph only\n(backward functions and parameters; no forward ops, "
              "no optimizer), graphdl draws every node the options select.")
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        run_model(f"MLP, {args.layers} dense layers", gd_mlp(args.layers),
                  lambda: torch_mlp(args.layers), CONFIGS, args, tmp)
        if args.conv_blocks:
            run_model(f"conv net, {args.conv_blocks} conv blocks", gd_conv(args.conv_blocks),
                      lambda: torch_conv(args.conv_blocks),
                      [CONFIGS[0], CONFIGS[4], CONFIGS[5]], args, tmp)
        if args.sweep:
            sweep([int(n) for n in args.sweep.split(",")], args, tmp)
    print("\nDOT build: graphdl's own Python; SVG: that plus Graphviz dot; DOT/SVG: its share.")


if __name__ == "__main__":
    main()
