"""The server process's memory allocator, set so that large blocks go back to the system.

glibc serves a block above its mmap threshold from a mapping of its own, unmapped when freed,
but raises that threshold (up to 32 MB) each time such a block is freed; from then on blocks of
that size come from the heap, which seldom shrinks. The table of remembered event keys is
rebuilt as the window moves, a few tens of megabytes at a time: with the threshold moving, each
rebuild would leave its old arrays' memory held by the process. A fixed threshold keeps the
resident size following what the world holds. Elsewhere than glibc this does nothing.
"""

from __future__ import annotations

import contextlib
import ctypes

M_MMAP_THRESHOLD = -3  # mallopt's parameter number, from glibc's malloc.h
THRESHOLD = 1 << 20  # bytes: a block this large or larger is a mapping of its own


def return_large_frees() -> None:
    """Fix glibc's mmap threshold (a no-op where there is no glibc)."""
    with contextlib.suppress(OSError, AttributeError, TypeError):
        ctypes.CDLL(None).mallopt(M_MMAP_THRESHOLD, THRESHOLD)  # the process's own C library
