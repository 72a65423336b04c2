"""Generated reduction kernels with their elementwise producers fused in.

For a fusion-pass kernel of kind ``"reduction"`` (elementwise producers, then one
sum/mean/max/min over ``reduce_axes``), one kernel computes the producers for each
element as it reads it and folds the result straight into the reduction: the
reduced-over values never reach global memory (producers used outside the
kernel are written once, as they are computed).

The iteration space is split into kept axes (``rows`` output elements) and reduced
axes (``k`` elements per row); every input gets two stride tuples, one per part
(0 along broadcast axes), so any set of reduced axes works without a transpose.
Launch: one block of ``ROW_THREADS`` threads per output element (grid-stride over
rows); each thread folds a strided slice of its row, then ``block_reduce``
(shared-memory tree, warp shuffles on a GPU) combines the threads. The typed shared
buffer is written into the source with the reduction's dtype.
"""

from .fused import GroupSource, cast_name

MODES = {"sum": "0", "mean": "0", "max": "1", "min": "2"}


class ReductionSource(GroupSource):
    """``lops``: producers then the reduction; ``outputs``: the reduction's output
    first, then producer values needed outside the kernel."""

    def __init__(self, name, lops, outputs):
        self.reduction = lops[-1]
        self.reduce_axes = tuple(self.reduction.attrs["axes"])
        super().__init__(name, lops, outputs)

    def _render(self):
        red = self.reduction
        dtype = cast_name(red.outputs[0].dtype)
        mode = MODES[red.op.name]
        local = {v: f"a{i}" for i, v in enumerate(self.inputs)}
        lines = []
        for i in range(len(self.inputs)):
            lines.append(f"a{i} = i{i}[offset_of(r, kshape, k{i}) + offset_of(j, rshape, r{i})]")
        for j, lop in enumerate(self.lops[:-1]):
            expr = self._expr(j, lop, [local[v] for v in lop.inputs])
            local[lop.outputs[0]] = f"t{j}"
            lines.append(f"t{j} = {cast_name(lop.outputs[0].dtype)}({expr})")
        value = f"{dtype}({local[red.inputs[0]]})"
        writes = [f"o{n}[offset_of(r, kshape, fk) + offset_of(j, rshape, fr)] = {local[v]}"
                  for n, v in enumerate(self.outputs[1:], start=1)]
        pad = "            "
        loop = "\n".join(pad + line for line in lines + writes)
        # a thread with no element of the row takes one (max/min are idempotent)
        again = "\n".join(pad + line for line in lines)
        outs = ", ".join(f"o{n}" for n in range(len(self.outputs)))
        ins = ", ".join(f"i{i}, k{i}, r{i}" for i in range(len(self.inputs)))
        ops = ", ".join(lop.op.name for lop in self.lops)
        scale = "acc * scale" if red.op.name == "mean" else "acc"
        return f'''

@cuda.jit(cache=True)
def {self.name}(kshape, rshape, rows, k, scale, fk, fr, {outs}, {ins}):
    """{ops} (fused reduction)"""
    buf = cuda.shared.array(ROW_THREADS, {dtype})
    t = cuda.threadIdx.x
    for r in range(cuda.blockIdx.x, rows, cuda.gridDim.x):
        acc = {dtype}(0)
        have = False
        for j in range(t, k, cuda.blockDim.x):
{loop}
            v = {value}
            acc = combine(acc, v, {mode}) if have else v
            have = True
        if not have and {mode} != 0:
            j = k - 1
{again}
            acc = {value}
        acc = block_reduce(buf, acc, {mode})
        if t == 0:
            o0[r] = {scale}
'''
