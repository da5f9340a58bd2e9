"""A progress bar for slow loads, shown only to a person watching a terminal."""

from __future__ import annotations

import sys
import time
from typing import TextIO

from mockserver.generator import Progress


def terminal_progress(label: str, stream: TextIO = sys.stderr) -> Progress | None:
    """A callback drawing a bar on `stream`, or None when no person would see it."""
    if not stream.isatty():
        return None
    started = time.monotonic()

    def draw(done: int, total: int) -> None:
        width = 30
        filled = width * done // total
        elapsed = time.monotonic() - started
        bar = "#" * filled + "-" * (width - filled)
        stream.write(f"\r{label} [{bar}] {done}/{total} customers, {elapsed:.1f}s")
        if done == total:
            stream.write("\n")
        stream.flush()

    return draw
