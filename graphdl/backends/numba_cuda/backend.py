"""``Session(backend="cuda")``: the lowered program rendered as CUDA kernels.

``compile(program)``:

1. ``optimize(program)`` — the shared passes, the same LoweredProgram the CPU
   backend renders;
2. every fusion group of elementwise ops (``lp.kernels`` once the fusion pass
   ran; until then each elementwise LOp alone) becomes one generated kernel
   (:mod:`.fused`); every other LOp gets a launcher from the rule table
   (:mod:`.rules`);
3. one generated *host function* calls the launchers in order; it and the fused
   kernels live in one content-addressed module in the cache directory
   (:mod:`.codegen`), which ``graphdl compile --backend cuda`` also writes out.

``run(ctx, feeds)``: feeds are uploaded, variables are read from the device
store (uploaded only when first used or changed on the host), the host function
launches everything, fetched values are copied back as NumPy arrays, and only
then, with every kernel finished and every device check passed, are the new
variable values staged, on the device, with the Session's RunContext
(:class:`StagedUpdates`): the Session commits them when the run succeeded and
discards them when it failed, also when ``check_numerics`` found a NaN or inf
in them (a finite check on the device, run only then). A run is a transaction:
a failing run changes nothing.
"""

import weakref

import numpy as np

from ...passes import optimize
from ..base import Backend, DeviceUpdates
from . import codegen, fused
from .device import require_device
from .fused_matmul import MatmulSource
from .fused_reduce import MODES, ReductionSource
from .kernels.check import flag_non_finite
from .rules import RULES, unsupported
from .rules_compute import check_no_error
from .runtime import Buf, Runtime, launch_1d


class CudaBackend(Backend):
    """Compiles Programs to CUDA kernels (Numba); variables live on the device."""

    name = "cuda"

    def __init__(self):
        require_device()
        self._stores = weakref.WeakKeyDictionary()  # RunContext -> DeviceStore

    def compile(self, program):
        plan = build_plan(optimize(program))
        return plan.runner(self._store_for)

    def _store_for(self, ctx):
        store = self._stores.get(ctx)
        if store is None:
            store = self._stores[ctx] = DeviceStore()
        return store


_PENDING = object()  # uploaded from a value the Session had not committed yet


class DeviceStore:
    """Device-resident variable values of one session.

    ``entries[var] = (Buf, host)``: ``host`` is the object in ``ctx.values`` the
    device copy stands for. If the session's stored value is replaced (a
    checkpoint restore writes it), the identity differs and the device copy is
    refreshed. Device updates are not staged through ``ctx.write_variable``
    (copying every step back would defeat residency) but as a
    :class:`StagedUpdates` that the Session commits here when the run succeeded.
    :meth:`sync_to_host` copies the device values into ``ctx.values`` on demand.
    """

    def __init__(self):
        self.entries = {}

    def read(self, ctx, var):
        stored = ctx.values.get(var)
        entry = self.entries.get(var)
        if entry is not None:
            buf, marker = entry
            if marker is _PENDING:  # the Session has committed (or dropped) that value
                self.entries[var] = (buf, stored)
                return buf
            if marker is stored:
                return buf
        host = ctx.read_variable(var)  # the stored value, or a first initialization
        from numba import cuda  # noqa: PLC0415
        arr = np.asarray(host, dtype=var.dtype, order="C")
        data = cuda.to_device(arr.reshape(-1) if arr.size else np.zeros(1, arr.dtype))
        buf = Buf(data, arr.shape)
        self.entries[var] = (buf, host if host is stored else _PENDING)
        return buf

    def commit(self, ctx, var, buf, rt):
        """Make ``buf`` the value of ``var``: hand its arena array over (the old one
        goes back to the arena), or copy when the array is not the run's own."""
        data = rt.take(buf)
        if data is None:  # a parameter, a constant or a value another variable took
            from numba import cuda  # noqa: PLC0415
            data = cuda.device_array(buf.data.size, buf.dtype)
            data.copy_to_device(buf.data)
        old = self.entries.get(var)
        self.entries[var] = (Buf(data, buf.shape), old[1] if old is not None else _PENDING)
        if old is not None and old[0].data.size == data.size and buf.slot is not None:
            rt.give(buf.slot, old[0].data)

    def sync_to_host(self, ctx):
        """Copy every device value back into ``ctx.values`` (e.g. before saving)."""
        for var, (buf, _) in list(self.entries.items()):
            host = buf.to_host()
            ctx.values[var] = host
            self.entries[var] = (buf, host)


class StagedUpdates(DeviceUpdates):
    """One run's new variable values, still in the run's device buffers."""

    def __init__(self, store, ctx, rt, pairs):
        self.store, self.ctx, self.rt = store, ctx, rt
        self.pairs = pairs  # [(Variable, Buf)]
        self.variables = [var for var, _ in pairs]

    def non_finite(self):
        """One device pass per float update sets its flag; one small copy back."""
        checked = [(k, buf) for k, (_, buf) in enumerate(self.pairs) if buf.dtype.kind == "f"]
        if not checked:
            return []
        from numba import cuda  # noqa: PLC0415
        flags = cuda.to_device(np.zeros(len(self.pairs), np.int32))
        for k, buf in checked:
            launch_1d(flag_non_finite, buf.size, flags, k, buf.data, buf.size)
        hits = flags.copy_to_host()
        return [var for k, (var, _) in enumerate(self.pairs) if hits[k]]

    def commit(self):
        for var, buf in self.pairs:
            self.store.commit(self.ctx, var, buf, self.rt)

    def discard(self):
        # the device keeps the values the run started from: the host copies follow
        # them, so a reference replay (check_numerics) starts from the same state
        self.store.sync_to_host(self.ctx)


class Plan:
    """A compiled program: launchers, the generated module and its host function."""

    def __init__(self, lp, launchers, module, source):
        self.lp = lp
        self.launchers = launchers
        self.module = module
        self.source = source
        self.host = module.host
        self.rt = Runtime()

    def runner(self, store_for):
        lp, rt, host, launchers = self.lp, self.rt, self.host, self.launchers

        def run(ctx, feeds):
            store = store_for(ctx)
            rt.rng = ctx.rng
            rt.reset_errors()
            args = []
            for i, v in enumerate(lp.params):
                if v.kind == "feed":
                    args.append(rt.upload(("feed", i), feeds[v.ref]))
                elif v.kind == "variable":
                    args.append(store.read(ctx, v.ref))
                else:
                    args.append(_constant(rt, i, v.ref))
            fetched, updated = host(launchers, rt, *args)
            values = [None if b is None else b.to_host() for b in fetched]  # synchronizes
            check_no_error(rt)
            if updated:
                pairs = [(var, buf) for (var, _), buf in zip(lp.updates, updated)]
                ctx.stage_device(StagedUpdates(store, ctx, rt, pairs))
            return values
        run.plan = self
        return run


def _constant(rt, i, value):
    key = ("const", i)
    if key not in rt.arena:
        from numba import cuda  # noqa: PLC0415
        arr = np.asarray(getattr(value, "array", value), order="C")  # a FrozenArray
        rt.arena[key] = cuda.to_device(arr.reshape(-1) if arr.size else np.zeros(1, arr.dtype))
    return Buf(rt.arena[key], np.shape(getattr(value, "array", value)))


def _steps(lp):
    """What to launch, in order: ``("fused", lops)`` for elementwise ops rendered as
    one generated kernel, ``("op", lop)`` for an op with a library rule.

    Kernels of the fusion pass (``lp.kernels``) map to steps: ``elementwise`` -> one
    fused kernel; ``reduction`` -> its producers fused, then the reduction;
    ``matmul`` -> the matmul, then its epilogue fused; ``op`` -> the op's rule.
    (Fusing producers into the reduction kernel itself and the epilogue into the
    matmul tile loop would save one buffer round trip each: not done yet.)"""
    if lp.kernels is None:
        kernels = [[lop] for lop in lp.ops]
    else:
        kernels = [k.ops for k in lp.kernels]
    for ops in kernels:
        if len(ops) > 1 and ops[0].op.name == "matmul" and \
                all(lop.op.scalar is not None for lop in ops[1:]):
            yield "matmul", ops  # the epilogue fused into the matmul's store
            continue
        if len(ops) > 1 and ops[-1].op.name in MODES and \
                all(lop.op.scalar is not None for lop in ops[:-1]):
            yield "reduce", ops  # producers fused into the reduction kernel
            continue
        run = []
        for lop in ops:
            if lop.op.scalar is not None:  # broadcast_like too: index arithmetic
                run.append(lop)
                continue
            if run:
                yield "fused", run
                run = []
            yield "op", lop
        if run:
            yield "fused", run


def build_plan(lp):
    """Render ``lp``: fused kernels + launchers + the host function source."""
    names = {}
    for i, v in enumerate(lp.params):
        names[v] = f"p{i}"
    live = set(lp.live_values())
    consumers = lp.consumers()
    launchers, groups, lines = [], [], []
    for index, (kind, what) in enumerate(_steps(lp)):
        if kind in ("fused", "reduce", "matmul"):
            inside = set(what)
            # outputs: values read outside the group, fetched or committed
            outputs = [o for lop in what for o in lop.outputs
                       if o in live or any(c not in inside for c, _ in consumers.get(o, []))]
            if kind == "fused":
                src = fused.GroupSource(f"k{index}", what, outputs)
                launchers.append(_fused_launcher(src, index))
            elif kind == "matmul":
                src = MatmulSource(f"k{index}", what, outputs)
                launchers.append(_matmul_launcher(src, index))
            else:
                red = what[-1].outputs[0]
                outputs = [red] + [o for o in outputs if o is not red]
                src = ReductionSource(f"k{index}", what, outputs)
                launchers.append(_reduction_launcher(src, index))
            groups.append(src)
            ins, outs, group = src.inputs, outputs, what
        else:
            rule = RULES.get(what.op)
            launchers.append(rule(what, index) if rule else unsupported(what))
            ins, outs, group = what.inputs, what.outputs, [what]
        for o in outs:
            names[o] = f"v{len(names)}"
        target = ", ".join(names[o] for o in outs) + ("," if len(outs) == 1 else "")
        args = "".join(f", {names[v]}" for v in ins)
        ops = " + ".join(lop.op.name for lop in group)
        lines.append(f"    {target} = L[{len(launchers) - 1}](rt{args})  # {ops}")
    fetch = "".join(f"{'None' if v is None else names[v]}, " for v in lp.fetches)
    upd = "".join(f"{names[v]}, " for _, v in lp.updates)
    params = "".join(f", {names[v]}" for v in lp.params)
    host = (f"def host(L, rt{params}):\n"
            f'    """Launch every kernel of the program in order; return (fetched, '
            f'updates)."""\n' + "\n".join(lines) + ("\n" if lines else "")
            + f"    return ({fetch}), ({upd})\n")
    source = fused.module_source(groups, host)
    module = codegen.load_source(source, prefix="program")
    for src, launcher in zip(groups, [la for la in launchers if hasattr(la, "group")]):
        launcher.kernel = getattr(module, src.name)
    return Plan(lp, launchers, module, source)


def _broadcast_all(src, ins):
    try:
        return tuple(np.broadcast_shapes(*[b.shape for b in ins]))
    except ValueError:
        from ...errors import ShapeError  # noqa: PLC0415
        from ...shapes import fmt  # noqa: PLC0415
        ops = ", ".join(lop.op.name for lop in src.lops)
        raise ShapeError(f"{ops}: run-time shapes cannot be broadcast together: "
                         + ", ".join(fmt(b.shape) for b in ins)) from None


def _reduction_launcher(src, index):
    """The launcher of a fused reduction kernel (see :mod:`.fused_reduce`)."""
    from ...errors import ShapeError  # noqa: PLC0415
    from .kernels.common import ROW_THREADS, contiguous_strides, row_blocks  # noqa: PLC0415
    from .runtime import broadcast_strides, fill  # noqa: PLC0415
    red = src.reduction
    axes, keepdims = src.reduce_axes, red.attrs["keepdims"]
    dtypes = [np.dtype(o.dtype) for o in src.outputs]
    configured = {}

    def split(strides, nd):
        """(kept-axes strides, reduced-axes strides), each of rank >= 1."""
        kept = tuple(s for a, s in enumerate(strides) if a not in axes)
        return kept or (0,), tuple(strides[a] for a in axes) or (0,)

    def launch(rt, *ins):
        shape = _broadcast_all(src, ins)
        nd = len(shape)
        kshape = tuple(d for a, d in enumerate(shape) if a not in axes)
        rshape = tuple(shape[a] for a in axes)
        rows = int(np.prod(kshape, dtype=np.int64))
        k = int(np.prod(rshape, dtype=np.int64))
        out_shape = tuple(1 if a in axes else d for a, d in enumerate(shape)) if keepdims \
            else kshape
        outs = [rt.alloc((index, 0), out_shape, dtypes[0])]
        outs += [rt.alloc((index, n), shape, d) for n, d in enumerate(dtypes[1:], start=1)]
        if k == 0:
            if red.op.name in ("max", "min"):
                raise ShapeError(f"{red.op.name}: zero-size reduction has no identity")
            outs[0] = fill(rt, (index, 0), out_shape, dtypes[0],
                           np.nan if red.op.name == "mean" else 0)
            return tuple(outs)
        if rows == 0:
            return tuple(outs)
        args = []
        for b in ins:
            args += [b.data, *split(broadcast_strides(b.shape, shape), nd)]
        fk, fr = split(contiguous_strides(shape), nd)
        grid = row_blocks(rows)
        kern = configured.get(grid)
        if kern is None:
            kern = configured[grid] = launch.kernel[grid, ROW_THREADS]
        kern(kshape or (1,), rshape, rows, k, dtypes[0].type(1.0 / k), fk, fr,
             *[o.data for o in outs], *args)
        return tuple(outs)
    launch.group = src
    return launch


def _matmul_launcher(src, index):
    """The launcher of a matmul kernel with a fused epilogue (:mod:`.fused_matmul`)."""
    import math  # noqa: PLC0415

    from .kernels.common import TILE, padded  # noqa: PLC0415
    from .rules_compute import matmul_setup  # noqa: PLC0415
    from .runtime import broadcast_strides  # noqa: PLC0415
    mm = src.matmul
    dtypes = [np.dtype(o.dtype) for o in src.outputs]

    def launch(rt, *ins):
        bufs = dict(zip(src.inputs, ins))
        a, b, (n, m, k), bshape, a_view, b_view = matmul_setup(
            mm, rt, index, bufs[mm.inputs[0]], bufs[mm.inputs[1]])
        shape = bshape + (n, m)
        epi = [bufs[v] for v in src.epilogue_inputs]
        outs = tuple(rt.alloc((index, j), shape, d) for j, d in enumerate(dtypes))
        batch = int(np.prod(bshape, dtype=np.int64)) if bshape else 1
        if batch == 0 or n == 0 or m == 0:
            return outs
        oshape, _ = padded(shape, shape)
        args = []
        for e in epi:
            if any(d not in (1, s) for d, s in zip(e.shape[::-1], shape[::-1])) \
                    or len(e.shape) > len(shape):
                return _broadcast_all(src, [*epi, Buf(a.data, shape)])  # raises
            args += [e.data, padded(shape, broadcast_strides(e.shape, shape))[1]]
        grid = (math.ceil(m / TILE), math.ceil(n / TILE), min(batch, 65535))
        launch.kernel[grid, (TILE, TILE)](
            n, m, k, batch, tuple(int(d) for d in bshape) or (1,), tuple(a_view[0]) or (0,),
            a_view[1], a_view[2], tuple(b_view[0]) or (0,), b_view[1], b_view[2], oshape,
            *[o.data for o in outs], a.data, b.data, *args)
        return outs
    launch.group = src
    return launch


def _fused_launcher(src, g_index):
    """The launcher of one generated kernel (its function is set once the module
    is loaded): run-time broadcast of the inputs, one launch over the output."""
    from ...shapes import fmt  # noqa: PLC0415
    from .kernels.common import THREADS, blocks, padded  # noqa: PLC0415
    from .runtime import broadcast_strides  # noqa: PLC0415
    out_dtypes = [np.dtype(o.dtype) for o in src.outputs]
    configured = {}

    def launch(rt, *ins):
        try:
            shape = tuple(np.broadcast_shapes(*[b.shape for b in ins]))
        except ValueError:
            from ...errors import ShapeError  # noqa: PLC0415
            ops = ", ".join(lop.op.name for lop in src.lops)
            raise ShapeError(f"{ops}: run-time shapes cannot be broadcast together: "
                             + ", ".join(fmt(b.shape) for b in ins)) from None
        outs = tuple(rt.alloc((g_index, k), shape, d) for k, d in enumerate(out_dtypes))
        n = int(np.prod(shape, dtype=np.int64))
        if n:
            args = []
            for b in ins:
                _, strides = padded(shape, broadcast_strides(b.shape, shape))
                args += [b.data, strides]
            grid = blocks(n)
            kern = configured.get(grid)
            if kern is None:
                kern = configured[grid] = launch.kernel[grid, THREADS]
            kern(padded(shape, shape)[0], n, *[o.data for o in outs], *args)
        return outs
    launch.group = src
    return launch
