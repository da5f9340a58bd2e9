"""Progress of slow loads: a bar for a person watching a terminal, one line for a log."""

from __future__ import annotations

import sys
import time
from typing import TextIO

from mockserver.world.generator import Progress


def terminal_progress(label: str, unit: str = "customers", stream: TextIO = sys.stderr) -> Progress | None:
    """A callback drawing a bar on `stream`, or None when no person would see it."""
    if not stream.isatty():
        return None
    started = time.monotonic()

    def draw(done: int, total: int) -> None:
        width = 30
        filled = width * done // total
        elapsed = time.monotonic() - started
        bar = "#" * filled + "-" * (width - filled)
        stream.write(f"\r{label} [{bar}] {done}/{total} {unit}, {elapsed:.1f}s")
        if done == total:
            stream.write("\n")
        stream.flush()

    return draw


def log_line(message: str, stream: TextIO = sys.stderr) -> None:
    """One line for whoever reads the output later; on a terminal the bars have said it."""
    if not stream.isatty():
        stream.write(f"mockserver: {message}\n")
        stream.flush()
