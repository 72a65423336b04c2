"""Generated matmul kernels with their elementwise epilogue fused into the store.

For a fusion-pass kernel of kind ``"matmul"`` (a matmul, then elementwise ops over
its output: bias, activation, the SGD update ``w - lr * g``), one kernel runs the
tiled matmul of :mod:`.kernels.linalg` and, instead of storing the product,
evaluates the epilogue on it in registers and stores the epilogue's outputs: one
launch and one buffer round trip less per matmul. Epilogue inputs are read
through their own strides over the output shape (0 along broadcast axes).
Launch: as the tiled matmul (TILE x TILE threads, grid over output tiles x batch).
"""

from .fused import GroupSource, cast_name


class MatmulSource(GroupSource):
    """``lops``: the matmul then its epilogue; ``outputs``: values needed outside."""

    def __init__(self, name, lops, outputs):
        self.matmul = lops[0]
        super().__init__(name, lops, outputs)
        self.epilogue_inputs = self._epilogue_reads()  # the operands come apart

    def _epilogue_reads(self):
        produced = {o for lop in self.lops for o in lop.outputs}
        reads = []
        for lop in self.lops[1:]:
            for v in lop.inputs:
                if v not in produced and v not in reads:
                    reads.append(v)
        return reads

    def _render(self):
        mm = self.lops[0]
        dtype = cast_name(mm.outputs[0].dtype)
        reads = self._epilogue_reads()
        local = {v: f"a{i}" for i, v in enumerate(reads)}
        local[mm.outputs[0]] = "t0"
        lines = ["e = z * n * m + row * m + col", f"t0 = {dtype}(acc)"]
        lines += [f"a{i} = i{i}[offset_of(e, oshape, s{i})]" for i in range(len(reads))]
        for j, lop in enumerate(self.lops[1:], start=1):
            expr = self._expr(j, lop, [local[v] for v in lop.inputs])
            local[lop.outputs[0]] = f"t{j}"
            lines.append(f"t{j} = {cast_name(lop.outputs[0].dtype)}({expr})")
        lines += [f"o{n}[e] = {local[v]}" for n, v in enumerate(self.outputs)]
        store = "\n".join("            " + line for line in lines)
        outs = ", ".join(f"o{n}" for n in range(len(self.outputs)))
        ins = "".join(f", i{i}, s{i}" for i in range(len(reads)))
        ops = ", ".join(lop.op.name for lop in self.lops)
        return f'''

@cuda.jit(cache=True)
def {self.name}(n, m, k, batch, bshape, a_bs, a_rs, a_cs, b_bs, b_rs, b_cs, oshape,
        {outs}, a, b{ins}):
    """{ops} (matmul with a fused epilogue)"""
    sa = cuda.shared.array((TILE, TILE), {dtype})
    sb = cuda.shared.array((TILE, TILE), {dtype})
    tx = cuda.threadIdx.x
    ty = cuda.threadIdx.y
    row = cuda.blockIdx.y * TILE + ty
    col = cuda.blockIdx.x * TILE + tx
    for z in range(cuda.blockIdx.z, batch, cuda.gridDim.z):
        a0_ = offset_of(z, bshape, a_bs)
        b0_ = offset_of(z, bshape, b_bs)
        acc = {dtype}(0)
        for t0_ in range(0, k, TILE):
            ka = t0_ + tx
            if row < n and ka < k:
                sa[ty, tx] = a[a0_ + row * a_rs + ka * a_cs]
            else:
                sa[ty, tx] = {dtype}(0)
            kb = t0_ + ty
            if kb < k and col < m:
                sb[ty, tx] = b[b0_ + kb * b_rs + col * b_cs]
            else:
                sb[ty, tx] = {dtype}(0)
            cuda.syncthreads()
            for j in range(TILE):
                acc += sa[ty, j] * sb[j, tx]
            cuda.syncthreads()
        if row < n and col < m:
{store}
'''
