"""Op-table entries for matmul and transpose."""

import numpy as np

import graphdl as gd

from . import OpInfo

OPS = [
    OpInfo("matmul", gd.matmul, np.matmul, lambda r: [
        (r.standard_normal((3, 5)), r.standard_normal((5, 2))),
        (r.standard_normal((1, 4)), r.standard_normal((4, 7))),          # batch size 1
        (r.standard_normal((2, 3, 4)), r.standard_normal((2, 4, 5))),    # batched
        (r.standard_normal((2, 3, 4)), r.standard_normal((4, 3))),       # broadcast batch
    ]),
    OpInfo("transpose", gd.transpose, np.transpose,
           lambda r: [(r.standard_normal((3, 5)),), (r.standard_normal((1, 4)),)]),
    OpInfo("transpose_perm", lambda x: gd.transpose(x, (1, 2, 0)),
           lambda x: np.transpose(x, (1, 2, 0)), lambda r: [(r.standard_normal((2, 3, 4)),)]),
    # 1-D operands as NumPy treats them (a row on the left, a column on the right)
    OpInfo("matmul[vector@matrix]", gd.matmul, np.matmul,
           lambda r: [(r.standard_normal(3), r.standard_normal((3, 4)))]),
    OpInfo("matmul[matrix@vector]", gd.matmul, np.matmul,
           lambda r: [(r.standard_normal((2, 3)), r.standard_normal(3))]),
    OpInfo("matmul[vector@vector]", gd.matmul, np.matmul,
           lambda r: [(r.standard_normal(5), r.standard_normal(5))]),
    OpInfo("matmul[batch@vector]", gd.matmul, np.matmul,
           lambda r: [(r.standard_normal((2, 3, 4)), r.standard_normal(4)),
                      (r.standard_normal(3), r.standard_normal((2, 3, 4)))]),
]
