"""The server's scratch directory under the temporary directory: the workers' shared log and
the token worlds' logs. A process killed with SIGKILL cannot remove its own, so each start
removes those whose owners are gone.

An owner holds an exclusive lock on the directory's `.owner` file for as long as it lives (its
forked workers share that lock); a directory whose lock can be taken has no owner left.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

PREFIX = "mockserver-"
OWNER = ".owner"


def remove_abandoned(parent: Path) -> list[Path]:
    """Remove the scratch directories in `parent` that no living process owns; returns them."""
    removed = []
    for candidate in parent.glob(PREFIX + "*"):
        owner = candidate / OWNER
        try:
            fd = os.open(owner, os.O_RDONLY)
        except OSError:
            continue  # not one of ours, or already gone
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            continue  # its owner is alive
        finally:
            os.close(fd)
        shutil.rmtree(candidate, ignore_errors=True)
        removed.append(candidate)
    return removed


@contextlib.contextmanager
def scratch_directory() -> Iterator[Path]:
    """A scratch directory of this process (and its workers), removed when it ends, after the
    abandoned ones of dead processes are removed."""
    parent = Path(tempfile.gettempdir())
    remove_abandoned(parent)
    with tempfile.TemporaryDirectory(prefix=PREFIX) as name:
        # Locked before it takes its name, so that no other start finds it unlocked.
        fd = os.open(Path(name) / (OWNER + ".new"), os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            os.rename(Path(name) / (OWNER + ".new"), Path(name) / OWNER)
            yield Path(name)
        finally:
            os.close(fd)
