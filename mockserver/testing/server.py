"""A real `mockserver serve` process on a free port, for tests: started, awaited, stopped."""

from __future__ import annotations

import contextlib
import os
import select
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import IO


@contextlib.contextmanager
def running_server(
    fixture: str | Path | None = None,
    args: Sequence[str] = (),
    timeout: float = 60,
    wait_for: str = "ready ",
    stderr: IO[bytes] | None = None,
) -> Iterator[str]:
    """Start `mockserver serve --port 0` as its own process and yield its base URL once it has
    printed `ready URL` (or, `wait_for="listening "`, once it is bound and still loading); it
    is stopped on the way out.

    What the server writes never waits on a reader: its standard error goes to `stderr` (a file
    opened for writing; by default a temporary one, quoted if the server does not start) and its
    standard output, once ready, is read and dropped. A pipe left unread would fill and stop the
    server at its next line of output."""
    command = [sys.executable, "-m", "mockserver", "serve", "--port", "0", "--quiet", *args]
    if fixture is not None:
        command += ["--fixtures", str(fixture)]
    with contextlib.ExitStack() as stack:
        errors = stderr if stderr is not None else stack.enter_context(tempfile.TemporaryFile())
        process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=errors, env={**os.environ})
        assert process.stdout is not None
        stack.callback(process.stdout.close)
        stack.callback(_stop, process)
        base = _announced(process.stdout.fileno(), wait_for, time.monotonic() + timeout)
        if base is None:
            process.kill()
            process.wait()
            said = (
                _written(errors) if stderr is None else f"see {getattr(stderr, 'name', 'its standard error')}"
            )
            raise RuntimeError(f"mockserver did not print {wait_for.strip()!r} within {timeout} s: {said}")
        dropped = stack.enter_context(open(os.devnull, "wb"))  # what the server prints once ready
        reader = threading.Thread(target=shutil.copyfileobj, args=(process.stdout, dropped), daemon=True)
        reader.start()
        try:
            yield base
        finally:
            _stop(process)
            reader.join(5)


def _announced(output: int, wait_for: str, deadline: float) -> str | None:
    """The URL of the server's `wait_for` line on the descriptor `output`, or None if the server
    ended, or fell silent until the deadline, without one."""
    pending = b""
    while (left := deadline - time.monotonic()) > 0:
        if not select.select([output], [], [], left)[0]:
            return None
        chunk = os.read(output, 1 << 16)
        if not chunk:
            return None
        *lines, pending = (pending + chunk).split(b"\n")
        for line in lines:
            if (text := line.decode(errors="replace")).startswith(wait_for):
                return text.split()[1]
    return None


def _written(stream: IO[bytes]) -> str:
    stream.flush()
    stream.seek(0)
    return stream.read().decode(errors="replace")


def _stop(process: subprocess.Popen) -> None:
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
    process.wait()
