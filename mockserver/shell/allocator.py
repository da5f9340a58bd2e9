"""The server process's memory allocator, set so that large blocks go back to the system.

glibc serves a block above its mmap threshold from a mapping of its own, unmapped when freed,
but raises that threshold (up to 32 MB) each time such a block is freed; from then on blocks of
that size come from the heap, which seldom shrinks. The table of remembered event keys is
rebuilt as the window moves, a few tens of megabytes at a time: with the threshold moving, each
rebuild would leave its old arrays' memory held by the process. A fixed threshold keeps the
resident size following what the world holds. Elsewhere than glibc this does nothing.

Fixing that threshold also stops glibc from raising its trim threshold (the free space at the
heap's top given back to the system) from 128 KB: a page of 47 KB, joined with its headers and
freed, then left enough at the top for the heap to shrink and grow again on most requests,
each time faulting its pages in anew (one minor fault every one or two requests, against one
in twenty-five). The trim threshold is set as glibc's own rule would: twice the mmap threshold.
"""

from __future__ import annotations

import contextlib
import ctypes

M_TRIM_THRESHOLD = -1  # mallopt's parameter numbers, from glibc's malloc.h
M_MMAP_THRESHOLD = -3
THRESHOLD = 1 << 20  # bytes: a block this large or larger is a mapping of its own
TRIM = 2 * THRESHOLD  # bytes free at the heap's top before it is given back


def return_large_frees() -> None:
    """Fix glibc's mmap and trim thresholds (a no-op where there is no glibc)."""
    with contextlib.suppress(OSError, AttributeError, TypeError):
        libc = ctypes.CDLL(None)  # the process's own C library
        libc.mallopt(M_MMAP_THRESHOLD, THRESHOLD)
        libc.mallopt(M_TRIM_THRESHOLD, TRIM)
