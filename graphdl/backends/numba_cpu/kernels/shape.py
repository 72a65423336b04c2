"""Shape ops: reshapes are views (every array here is C-contiguous), everything else
copies into a fresh C-contiguous array; unknown dims are checked at run time with
the reference's messages."""

from ....errors import GraphError
from ....ops.array import FILL, GATHER, GATHER_GRAD, SHAPE
from ....ops.shape import (
    BROADCAST_TO,
    CONCAT,
    ENSURE_SHAPE_LIKE,
    FLATTEN,
    GETITEM,
    GETITEM_GRAD,
    ONE_HOT,
    RESHAPE,
    RESHAPE_LIKE,
    SPLIT,
    SPLIT_LIKE,
    STACK,
    STOP_GRADIENT,
)
from ...numba_common.codegen import attr_text, dtype_name
from . import CPU
from .reduction import lower_broadcast_copy, reshape_to


def _tuple(items):
    return "(" + "".join(f"{d}, " for d in items) + ")"


def _size(ctx, name, ndim):
    return " * ".join(f"{name}.shape[{k}]" for k in range(ndim)) or "1"


@CPU.register(RESHAPE)
def lower_reshape(ctx, lop):
    x, _out = lop.inputs[0], lop.outputs[0]
    shape = lop.attrs["shape"]
    xs = ctx.array(x)
    size = _size(ctx, xs, x.ndim)
    if -1 in shape:
        known = 1
        for d in shape:
            known *= d if d != -1 else 1
        n = ctx.fresh("n")
        if known == 0:
            ctx.line(f"{n} = 0")
        else:
            ctx.check(f"({size}) % {known} == 0", "reshape: cannot reshape {} ({} elements) "
                      f"into {shape} at run time", [f"{xs}.shape", size])
            ctx.line(f"{n} = ({size}) // {known}")
        dims = [n if d == -1 else str(d) for d in shape]
    else:
        dims = [str(d) for d in shape]
        if None in x.shape:
            total = 1
            for d in shape:
                total *= d
            ctx.check(f"{size} == {total}", "reshape: cannot reshape {} ({} elements) into "
                      f"{shape} at run time", [f"{xs}.shape", size])
    reshape_to(ctx, lop, dims)


@CPU.register(RESHAPE_LIKE)
def lower_reshape_like(ctx, lop):
    x, like = lop.inputs
    dims = [ctx.dim(like, k) for k in range(like.ndim)]
    xs = ctx.array(x)
    ctx.fit_check(f"{_size(ctx, xs, x.ndim)} == {' * '.join(dims) or '1'}",
                  "the element counts differ")
    reshape_to(ctx, lop, dims)


@CPU.register(FLATTEN)
def lower_flatten(ctx, lop):
    x = lop.inputs[0]
    rest = " * ".join(ctx.dim(x, k) for k in range(1, x.ndim)) or "1"
    reshape_to(ctx, lop, [ctx.dim(x, 0), rest])


@CPU.register(STOP_GRADIENT)
def lower_identity(ctx, lop):
    x = lop.inputs[0]
    ctx.bind(lop.outputs[0], ctx.array(x), alias_of=x)


@CPU.register(BROADCAST_TO)
def lower_broadcast_to(ctx, lop):
    lower_broadcast_copy(ctx, lop.inputs[0], lop.outputs[0],
                         [str(d) for d in lop.attrs["shape"]])


def _check_same(ctx, op_name, names, ndim, skip=None):
    for k in range(ndim):
        if k == skip:
            continue
        for other in names[1:]:
            ctx.check(f"{names[0]}.shape[{k}] == {other}.shape[{k}]",
                      f"{op_name}: sizes differ along axis {k} at run time: "
                      + ", ".join("{}" for _ in names), [f"{n}.shape" for n in names])


def _copy_into(ctx, target, src, ndim, check=False):
    """``target[...] = src`` (``target``: an array or a basic-indexing view of one,
    of rank ``ndim``) as a loop nest: Numba compiles a helper at every slice
    assignment (0.4-0.8 s each: 60 in an unrolled LSTM's training step), and
    none for a loop. ``check``: the shapes are compared first (else equal by
    construction)."""
    view = ctx.fresh("w")
    ctx.line(f"{view} = {target}")
    if ndim == 0:
        ctx.line(f"{view}[()] = {src}[()]")
        return
    if check:
        ctx.fit_check(" and ".join(f"{view}.shape[{k}] == {src}.shape[{k}]"
                                   for k in range(ndim)), "the gradient's shape")
    with ctx.loops([f"{src}.shape[{k}]" for k in range(ndim)]) as idx:
        ctx.line(f"{view}[{', '.join(idx)}] = {src}[{', '.join(idx)}]")


def _slot(ndim, axis, what):
    return ", ".join(what if k == axis else ":" for k in range(ndim))


@CPU.register(CONCAT)
def lower_concat(ctx, lop):
    axis, out = lop.attrs["axis"], lop.outputs[0]
    names = [ctx.array(x) for x in lop.inputs]
    nd = out.ndim
    if any(None in x.shape for x in lop.inputs):
        _check_same(ctx, "concat", names, nd, skip=axis)
    total = " + ".join(f"{n}.shape[{axis}]" for n in names)
    dims = [total if k == axis else f"{names[0]}.shape[{k}]" for k in range(nd)]
    ctx.alloc(out, dims)
    off = ctx.fresh("off")
    ctx.line(f"{off} = 0")
    for n in names:
        _copy_into(ctx, f"{ctx.out()}[{_slot(nd, axis, f'{off}:{off} + {n}.shape[{axis}]')}]",
                   n, nd)
        ctx.line(f"{off} += {n}.shape[{axis}]")


@CPU.register(STACK)
def lower_stack(ctx, lop):
    axis, out = lop.attrs["axis"], lop.outputs[0]
    names = [ctx.array(x) for x in lop.inputs]
    first = lop.inputs[0]
    if any(None in x.shape for x in lop.inputs):
        _check_same(ctx, "stack", names, first.ndim)
    dims = [f"{names[0]}.shape[{k}]" for k in range(first.ndim)]
    dims.insert(axis, str(len(names)))
    ctx.alloc(out, dims)
    for i, n in enumerate(names):
        if first.ndim == 0:
            ctx.line(f"{ctx.out()}[{i}] = {n}[()]")
        else:
            _copy_into(ctx, f"{ctx.out()}[{_slot(out.ndim, axis, str(i))}]", n, first.ndim)


def _split_pieces(ctx, lop, x, sizes):
    axis = lop.attrs["axis"]
    xs = ctx.array(x)
    off = ctx.fresh("off")
    ctx.line(f"{off} = 0")
    for i, size in enumerate(sizes):
        piece = f"{xs}[{_slot(x.ndim, axis, f'{off}:{off} + {size}')}]"
        ctx.line(f"{ctx.out(i)} = np.ascontiguousarray({piece})")
        ctx.line(f"{off} += {size}")


@CPU.register(SPLIT)
def lower_split(ctx, lop):
    x = lop.inputs[0]
    axis, sections = lop.attrs["axis"], lop.attrs["sections"]
    xs = ctx.array(x)
    dim = f"{xs}.shape[{axis}]"
    if isinstance(sections, int):
        if x.shape[axis] is None:
            ctx.check(f"{dim} % {sections} == 0", f"split: axis {axis} of run-time size {{}} "
                      f"cannot be split into {sections} equal parts", [dim])
        part = ctx.fresh("n")
        ctx.line(f"{part} = {dim} // {sections}")
        sizes = [part] * sections
    else:
        if x.shape[axis] is None:
            ctx.check(f"{dim} == {sum(sections)}", f"split: sizes {list(sections)} do not add "
                      f"up to the run-time size {{}} of axis {axis}", [dim])
        sizes = [str(s) for s in sections]
    _split_pieces(ctx, lop, x, sizes)


@CPU.register(SPLIT_LIKE)
def lower_split_like(ctx, lop):
    g, likes = lop.inputs[0], lop.inputs[1:]
    axis = lop.attrs["axis"]
    sizes = [f"{ctx.array(t)}.shape[{axis}]" for t in likes]
    gs = ctx.array(g)
    ctx.fit_check(f"{' + '.join(sizes)} == {gs}.shape[{axis}]",
                  "the pieces do not add up to the axis")
    _split_pieces(ctx, lop, g, sizes)


def _index_parts(ctx, x, xs, key):
    """Source index entries for getitem's key (new axes left out) and checks of ints."""
    parts, axis = [], 0
    for k in key:
        if k[0] == "new":
            continue
        if k[0] == "int":
            i = k[1]
            if x.shape[axis] is None:
                d = f"{xs}.shape[{axis}]"
                ctx.check(f"-{d} <= {i} < {d}", f"getitem: index {i} is out of range for "
                          f"axis {axis} with run-time size {{}}", [d])
                parts.append(f"{i} % {d}" if i < 0 else str(i))
            else:
                parts.append(str(i))
        else:
            parts.append(":".join("" if v is None else str(v) for v in k[1:]))
        axis += 1
    return parts


def _out_dims(ctx, out_name, out):
    return [f"{out_name}.shape[{k}]" for k in range(out.ndim)]


@CPU.register(GETITEM)
def lower_getitem(ctx, lop):
    x, out = lop.inputs[0], lop.outputs[0]
    key = lop.attrs["key"]
    xs = ctx.array(x)
    parts = _index_parts(ctx, x, xs, key)
    picked = ctx.fresh("t")
    if parts and any(":" in p for p in parts):
        ctx.line(f"{picked} = np.ascontiguousarray({xs}[{', '.join(parts)}])")
    elif parts:  # ints only: one element
        ctx.line(f"{picked} = full((), {xs}[{', '.join(parts)}], {dtype_name(x.dtype)})")
    else:
        ctx.line(f"{picked} = {xs}")
    # new axes: reshape the picked array (its dims, with 1 where "new" entries are)
    dims, j, axis = [], 0, 0
    for k in key:
        if k[0] == "new":
            dims.append("1")
        elif k[0] == "slice":
            dims.append(f"{picked}.shape[{j}]")
            j += 1
        if k[0] != "new":
            axis += 1
    dims += [f"{picked}.shape[{j + r}]" for r in range(x.ndim - axis)]
    ctx.bind(out, f"{picked}.reshape({_tuple(dims)})", alias_of=x if not parts else None)


@CPU.register(GETITEM_GRAD)
def lower_getitem_grad(ctx, lop):
    g, like = lop.inputs
    out = lop.outputs[0]
    key = lop.attrs["key"]
    ls = ctx.array(like)
    gs = ctx.array(g)
    ctx.alloc(out, [ctx.dim(like, k) for k in range(like.ndim)], fill=0)
    parts = _index_parts(ctx, like, ls, key)
    # g without the axes that "new" entries added
    gdims = [f"{gs}.shape[{k}]" for k, entry in enumerate(_g_axes(key, like.ndim))
             if entry != "new"]
    squeezed = ctx.fresh("t")
    ctx.line(f"{squeezed} = {gs}.reshape({_tuple(gdims)})")
    if parts and all(":" not in p for p in parts):
        ctx.line(f"{ctx.out()}[{', '.join(parts)}] = {squeezed}[()]")
    elif parts:
        _copy_into(ctx, f"{ctx.out()}[{', '.join(parts)}]", squeezed, len(gdims), check=True)
    else:
        _copy_into(ctx, ctx.out(), squeezed, len(gdims), check=True)


def _g_axes(key, ndim):
    """For each axis of getitem's output: 'new', 'slice' or 'rest'."""
    kinds, axis = [], 0
    for k in key:
        if k[0] == "new":
            kinds.append("new")
        else:
            if k[0] == "slice":
                kinds.append("slice")
            axis += 1
    return kinds + ["rest"] * (ndim - axis)


@CPU.register(ONE_HOT)
def lower_one_hot(ctx, lop):
    idx_v, out = lop.inputs[0], lop.outputs[0]
    depth = lop.attrs["depth"]
    xs = ctx.array(idx_v)
    dims = [ctx.dim(idx_v, k) for k in range(idx_v.ndim)]
    ctx.alloc(out, dims + [str(depth)], fill=0)
    with ctx.loops(dims) as idx:
        c = ctx.fresh("c")
        ctx.line(f"{c} = {ctx.at(idx_v, idx) if idx else xs + '[()]'}")
        with ctx.block(f"if 0 <= {c} < {depth}:"):
            ctx.line(f"{ctx.at(out, idx + [c])} = 1")


@CPU.register(ENSURE_SHAPE_LIKE)
def lower_ensure_shape_like(ctx, lop):
    x, like = lop.inputs
    xs, ls = ctx.array(x), ctx.array(like)
    what = lop.attrs["what"]
    ctx.check(f"{xs}.shape == {ls}.shape", f"{what}: shape {{}} at run time, expected {{}}")
    ctx.bind(lop.outputs[0], xs, alias_of=x)


@CPU.register(SHAPE)
def lower_shape(ctx, lop):
    x = lop.inputs[0]
    ctx.alloc(lop.outputs[0], [str(x.ndim)])
    for k in range(x.ndim):
        ctx.line(f"{ctx.out()}[{k}] = {ctx.dim(x, k)}")


@CPU.register(FILL)
def lower_fill(ctx, lop):
    dims, it = [], iter(lop.inputs)
    for d in lop.attrs["dims"]:
        if d is None:
            size = ctx.fresh("n")
            v = next(it)
            ctx.line(f"{size} = np.int64({ctx.at(v, [])})")
            ctx.check(f"{size} >= 0", "fill: negative dimension in run-time shape",
                      cls=GraphError)
            dims.append(size)
        else:
            dims.append(str(d))
    out = lop.outputs[0]
    ctx.record_dims(out, dims)
    shape = "(" + "".join(f"{d}, " for d in ctx.dims[out]) + ")"
    ctx.line(f"{ctx.out()} = full({shape}, {attr_text(lop.attrs['value'])}, "
             f"{dtype_name(out.dtype)})")


def _gather_loops(ctx, lop, params, indices, axis, body):
    """Loops over params' leading axes, the indices and params' trailing axes."""
    ps, ix = ctx.array(params), ctx.array(indices)
    lead = [ctx.dim(params, k) for k in range(axis)]
    trail = [ctx.dim(params, k) for k in range(axis + 1, params.ndim)]
    size = f"{ps}.shape[{axis}]"
    with ctx.loops([f"{ix}.shape[{k}]" for k in range(indices.ndim)]) as idx:
        j = ctx.fresh("j")
        ctx.line(f"{j} = {ctx.at(indices, idx)}")
        ctx.check(f"-{size} <= {j} < {size}", f"{lop.op.name}: index {{}} is out of range "
                  f"for axis {axis} with size {{}}", cls=GraphError)
        with ctx.block(f"if {j} < 0:"):
            ctx.line(f"{j} += {size}")
        with ctx.loops(lead) as a, ctx.loops(trail) as b:
            body(a, idx, b, j)
    return ps


@CPU.register(GATHER)
def lower_gather(ctx, lop):
    params, indices = lop.inputs
    axis, out = lop.attrs["axis"], lop.outputs[0]
    dims = ([ctx.dim(params, k) for k in range(axis)]
            + [ctx.dim(indices, k) for k in range(indices.ndim)]
            + [ctx.dim(params, k) for k in range(axis + 1, params.ndim)])
    ctx.alloc(out, dims)

    def body(a, idx, b, j):
        ctx.line(f"{ctx.at(out, a + idx + b)} = {ctx.at(params, a + [j] + b)}")
    _gather_loops(ctx, lop, params, indices, axis, body)


@CPU.register(GATHER_GRAD)
def lower_gather_grad(ctx, lop):
    g, indices, like = lop.inputs
    axis, out = lop.attrs["axis"], lop.outputs[0]
    ctx.alloc(out, [ctx.dim(like, k) for k in range(like.ndim)], fill=0)

    def body(a, idx, b, j):
        ctx.line(f"{ctx.at(out, a + [j] + b)} += {ctx.at(g, a + idx + b)}")
    _gather_loops(ctx, lop, like, indices, axis, body)
