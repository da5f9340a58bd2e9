"""Server processes that announce `ready URL` on stdout, and their guaranteed shutdown.

Every server is started in its own session so that, whatever it forks, the whole group can be
killed at the end and no worker outlives a benchmark run.
"""

from __future__ import annotations

import contextlib
import http.client
import io
import os
import re
import signal
import subprocess
import threading
import time
from pathlib import Path
from types import TracebackType

# Working directory for helper processes, so `python -m bench.<module>` resolves from anywhere.
PACKAGE_ROOT = Path(__file__).resolve().parent.parent
READY_LINE = re.compile(r"^ready (http://127\.0\.0\.1:(\d+))/?\s*$")
POLL_INTERVAL = 0.005
CHUNK_BYTES = 1 << 16
TAIL_BYTES = 1 << 12
TAIL_LINES = 20


class ServerError(RuntimeError):
    """A server did not start or did not answer as the contract says."""


class ServerProcess:
    """A child server; its output is drained continuously so a chatty server never blocks, or
    its stderr written to a file (`stderr`), as a user who keeps the server's log would."""

    def __init__(
        self, name: str, cmd: list[str], cwd: Path | None = None, stderr: Path | None = None
    ) -> None:
        self.name = name
        self.cmd = cmd
        self.stderr_path = stderr
        self.url = ""
        self.port = 0
        self.ready_seconds = 0.0
        self._ready = threading.Event()
        self._tails = {"stdout": b"", "stderr": b""}
        self.spawned_at = time.perf_counter()
        try:
            with stderr.open("wb") if stderr else contextlib.nullcontext(subprocess.PIPE) as log:
                self.popen = subprocess.Popen(
                    cmd,
                    cwd=cwd,
                    stdin=subprocess.DEVNULL,
                    stdout=subprocess.PIPE,
                    stderr=log,
                    start_new_session=True,
                )
        except OSError as error:
            raise ServerError(f"{name} could not be started ({' '.join(cmd)}): {error}") from error
        for label, stream in (("stdout", self.popen.stdout), ("stderr", self.popen.stderr)):
            if stream is not None:
                threading.Thread(target=self._drain, args=(label, stream), daemon=True).start()

    @property
    def pid(self) -> int:
        return self.popen.pid

    def _drain(self, label: str, stream: io.BufferedReader) -> None:
        """Lines are parsed only until `ready`; afterwards output is read in bulk and only its
        tail kept, so a per-request access log costs the harness next to nothing."""
        pending = b""
        while chunk := stream.read1(CHUNK_BYTES):
            self._tails[label] = (self._tails[label] + chunk)[-TAIL_BYTES:]
            if label != "stdout" or self._ready.is_set():
                continue
            *lines, pending = (pending + chunk).split(b"\n")
            for line in lines:
                match = READY_LINE.match(line.decode(errors="replace"))
                if match:
                    self.url, self.port = match.group(1), int(match.group(2))
                    self.ready_seconds = time.perf_counter() - self.spawned_at
                    self._ready.set()
                    break

    def _fail(self, reason: str) -> ServerError:
        if self.stderr_path:
            with self.stderr_path.open("rb") as log:
                log.seek(max(0, log.seek(0, os.SEEK_END) - TAIL_BYTES))
                self._tails["stderr"] = log.read()
        lines = [f"  command: {' '.join(self.cmd)}"]
        for label, tail in self._tails.items():
            text = tail.decode(errors="replace").splitlines()[-TAIL_LINES:]
            lines += [f"  {label}:", *(f"    {line}" for line in text or ["(nothing)"])]
        return ServerError(f"{self.name} {reason}\n" + "\n".join(lines))

    def wait_ready(self, timeout: float) -> str:
        """Block until the `ready` line arrives; fail early if the process dies."""
        deadline = time.perf_counter() + timeout
        while not self._ready.wait(POLL_INTERVAL):
            if self.popen.poll() is not None:
                raise self._fail(f"exited with code {self.popen.returncode} before `ready`")
            if time.perf_counter() > deadline:
                raise self._fail(f"printed no `ready http://127.0.0.1:PORT` in {timeout:g} s")
        return self.url

    def wait_healthy(self, path: str, headers: dict[str, str], timeout: float) -> tuple[float, bytes]:
        """Poll `path` until it answers 200; return seconds since spawn and the body."""
        deadline = time.perf_counter() + timeout
        while True:
            conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=1.0)
            try:
                conn.request("GET", path, headers=headers)
                response = conn.getresponse()
                body = response.read()
                if response.status == 200:
                    return time.perf_counter() - self.spawned_at, body
            except OSError:
                pass
            finally:
                conn.close()
            if self.popen.poll() is not None:
                raise self._fail(f"exited with code {self.popen.returncode} before {path} gave 200")
            if time.perf_counter() > deadline:
                raise self._fail(f"did not answer 200 on {path} within {timeout:g} s")
            time.sleep(POLL_INTERVAL)

    def stop(self, timeout: float = 10.0) -> None:
        """SIGTERM, then SIGKILL the whole process group if anything is left."""
        if self.popen.poll() is None:
            self.popen.send_signal(signal.SIGTERM)
            with contextlib.suppress(subprocess.TimeoutExpired):
                self.popen.wait(timeout)
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.popen.pid, signal.SIGKILL)
        self.popen.wait()

    def __enter__(self) -> ServerProcess:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()
