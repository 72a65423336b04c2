"""one_hot and the label checks of the sparse cross-entropy. Dtype-generic.

A bad label cannot raise on the device: ``label_one_hot`` records the first
offending label in ``error`` (a 2-slot int64 array: the error's code, the label), which the host
function reads after the run and turns into the reference backend's GraphError
before anything is committed. Launch: 1-D grid-stride over the output.
"""

from numba import cuda


@cuda.jit(cache=True)
def one_hot(out, idx, depth, total):
    """out[i, d] = 1 if idx[i] == d else 0 (out-of-range indices: a zero row)."""
    for e in range(cuda.grid(1), total, cuda.gridsize(1)):
        i = e // depth
        out[e] = 1 if idx[i] == e - i * depth else 0


@cuda.jit(cache=True)
def label_one_hot(out, labels, depth, total, error, code):
    for e in range(cuda.grid(1), total, cuda.gridsize(1)):
        i = e // depth
        label = labels[i]
        out[e] = 1 if label == e - i * depth else 0
        if (label < 0 or label >= depth) and e - i * depth == 0:
            if cuda.atomic.cas(error, 0, 0, code) == 0:
                error[1] = label
