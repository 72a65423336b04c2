"""Keep freed memory in the process: glibc malloc settings for compiled programs.

A compiled program allocates its intermediate arrays with ``malloc`` (Numba's
runtime) on every run and frees them when it returns. glibc returns large freed
blocks to the kernel at once (blocks above its mmap threshold are unmapped; the
top of the heap is trimmed past 2x that threshold), so the next run page-faults
every page of them in again, zeroed by the kernel and charged to the memory
cgroup: 4700 faults and ≈ 10 ms of system time per step of the MNIST CNN at batch
64 (a 23 ms step), none once freed memory is kept.

:func:`keep_freed_memory` raises glibc's mmap threshold to its maximum (32 MiB:
arrays up to that come from the heap and are reused) and lets up to
``TRIM_THRESHOLD`` of free memory stay at the top of the heap. It changes the
whole process's allocator (any library's large temporaries are reused too, and
up to that much freed memory stays resident); ``GRAPHDL_MALLOC_TUNING=0`` turns
it off. Elsewhere than glibc it does nothing.
"""

import ctypes
import ctypes.util
import os
import sys
import threading

M_TRIM_THRESHOLD, M_MMAP_THRESHOLD = -1, -3  # glibc's mallopt parameters
MMAP_THRESHOLD = 32 << 20  # glibc's largest allowed value on 64-bit
TRIM_THRESHOLD = 256 << 20

_DONE = []
_LOCK = threading.Lock()


def keep_freed_memory():
    """Set glibc's mmap and trim thresholds once per process (see the module doc);
    returns whether they were set."""
    with _LOCK:
        if _DONE:
            return _DONE[0]
        _DONE.append(_set_thresholds())
        return _DONE[0]


def _set_thresholds():
    if os.environ.get("GRAPHDL_MALLOC_TUNING", "1") == "0" or not sys.platform.startswith("linux"):
        return False
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
        mallopt = libc.mallopt
    except (OSError, AttributeError):  # not glibc (musl has no mallopt)
        return False
    mallopt.argtypes, mallopt.restype = [ctypes.c_int, ctypes.c_int], ctypes.c_int
    return bool(mallopt(M_MMAP_THRESHOLD, MMAP_THRESHOLD)) and \
        bool(mallopt(M_TRIM_THRESHOLD, TRIM_THRESHOLD))
