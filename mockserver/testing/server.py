"""A real `mockserver serve` process on a free port, for tests: started, awaited, stopped."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator, Sequence
from pathlib import Path


@contextlib.contextmanager
def running_server(
    fixture: str | Path | None = None,
    args: Sequence[str] = (),
    timeout: float = 60,
    wait_for: str = "ready ",
) -> Iterator[str]:
    """Start `mockserver serve --port 0` as its own process and yield its base URL once it has
    printed `ready URL` (or, `wait_for="listening "`, once it is bound and still loading); it
    is stopped on the way out."""
    command = [sys.executable, "-m", "mockserver", "serve", "--port", "0", "--quiet", *args]
    if fixture is not None:
        command += ["--fixtures", str(fixture)]
    process = subprocess.Popen(
        command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env={**os.environ}
    )
    try:
        deadline = time.monotonic() + timeout
        base = None
        while time.monotonic() < deadline:
            line = process.stdout.readline() if process.stdout else ""
            if not line:
                break
            if line.startswith(wait_for):
                base = line.split()[1]
                break
        if base is None:
            process.kill()
            stderr = process.stderr.read() if process.stderr else ""
            raise RuntimeError(f"mockserver did not start: {stderr}")
        yield base
    finally:
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        for stream in (process.stdout, process.stderr):
            if stream:
                stream.close()
