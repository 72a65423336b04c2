"""What the Numba backends (CPU and CUDA) share: source emission and scalar-function
rendering (:mod:`.codegen`) and the content-addressed on-disk cache (:mod:`.cache`).

Nothing here imports Numba at module import time, so ``import graphdl`` stays fast.
"""
