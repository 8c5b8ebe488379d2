"""The settings a timing process makes before it measures anything.

- One BLAS thread (set before numpy loads): on a machine shared with other work, BLAS
  threads that wait for a busy core make W3's timings swing by 10x.
- Freed memory kept in the process (glibc's malloc): by default an array over 128 KB is
  mapped from the system when it is made and handed back when it is freed, so the next one
  starts on fresh pages, each a page fault, and the threshold moves with what the process
  freed before. A step that allocates anew at every op, as the hand-written twins do, then
  spends a share of its time in the kernel that changes from run to run (W5's twin from
  about 100 to 190 ms an epoch). With the memory kept, every column times computation.
"""

from __future__ import annotations

import ctypes
import os

M_TRIM_THRESHOLD, M_MMAP_THRESHOLD = -1, -3  # mallopt's parameters, from glibc's malloc.h
MMAP_THRESHOLD = 32 * 2**20  # the largest glibc accepts: below it, memory comes from the heap
TRIM_THRESHOLD = 256 * 2**20  # free memory at the top of the heap kept up to this size


def set_up() -> None:
    """Both settings: to be called before numpy is imported. One BLAS thread unless the
    environment already chooses."""
    for variable in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ.setdefault(variable, "1")
    keep_freed_memory()


def keep_freed_memory() -> None:
    """Have malloc keep freed memory for the next allocation (glibc only: elsewhere this
    does nothing). Takes effect from the next allocation on."""
    try:
        mallopt = ctypes.CDLL(None).mallopt
    except (AttributeError, OSError, TypeError):  # not glibc: macOS, musl, Windows
        return
    mallopt(M_MMAP_THRESHOLD, MMAP_THRESHOLD)
    mallopt(M_TRIM_THRESHOLD, TRIM_THRESHOLD)
