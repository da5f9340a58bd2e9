"""Snapshots of a world beside its log of changes, so that a start replays only the tail
written since (as Redis keeps an RDB file beside its append-only file).

A snapshot is `<log>.snapshot`: a header line naming the fixture, the seq and the log's
position it was taken at (with a digest of the bytes just before it, so that a snapshot of
another log, or of a log cut back since, is never taken for this one's), then the world,
pickled. It is written by a forked child, so the process serving goes on at once, to a
temporary file renamed into place: a snapshot is whole or absent. The snapshot is only ever
an optimisation: the log alone holds every change, and `GET /_mock/changes` still exports it
from seq 1.
"""

from __future__ import annotations

import contextlib
import hashlib
import logging
import os
import pickle
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import orjson

from mockserver.world.spec import Fixture
from mockserver.world.state import World

EVERY = 32 << 20  # bytes of log between snapshots: a start replays at most about this much
MAGIC = b"mockserver snapshot 1\n"

log = logging.getLogger("mockserver")

# Where classes a snapshot of an earlier version pickled live now, so that it still loads:
# modules moved whole, then single classes moved or renamed.
MOVED_MODULES = {
    "mockserver.generation.fixture": "mockserver.world.spec",
    "mockserver.generation.generator": "mockserver.world.generator",
    "mockserver.generation.invoice_body": "mockserver.world.invoice_body",
}
MOVED_CLASSES = {
    ("mockserver.world.spec", "_Located"): ("mockserver.world.spec", "Located"),
    ("mockserver.world.spec", "_LocatedList"): ("mockserver.world.spec", "LocatedList"),
    ("mockserver.world.generator", "InvoiceColumns"): ("mockserver.world.columns", "InvoiceColumns"),
    ("mockserver.world.webhooks", "Hooks"): ("mockserver.world.hooks", "Hooks"),
    ("mockserver.world.webhooks", "Event"): ("mockserver.world.hooks", "Event"),
}


class _Unpickler(pickle.Unpickler):
    def find_class(self, module: str, name: str) -> type:
        module = MOVED_MODULES.get(module, module)
        return super().find_class(*MOVED_CLASSES.get((module, name), (module, name)))


TAIL = 64  # bytes before a mark whose digest identifies the log there


@dataclass(frozen=True)
class Mark:
    """A position in a log: the byte after a line, the lines before it, and a digest of the
    bytes just before it."""

    offset: int
    lines: int
    last: str


def tail_digest(tail: bytes) -> str:
    return hashlib.blake2b(tail, digest_size=16).hexdigest()


def fingerprint(fixture: Fixture) -> str:
    """What a log's changes were made on: the fixture's text and seed."""
    return f"{fixture.text_digest}:{fixture.seed}"


class Snapshots:
    """The snapshot of one log: read at start, written every EVERY bytes of changes."""

    def __init__(self, log_path: str | Path) -> None:
        self.path = Path(f"{log_path}.snapshot")
        self.taken_at = 0  # the log's offset at the last snapshot written or read
        # The fixture the log's changes were made on, once read: a world replaced by a
        # `fixture` change has another, but its snapshots are of this log all the same.
        self.base: str | None = None
        self._child: int | None = None

    def read(self, fixture: Fixture, resume: Callable[[Mark], bool]) -> World | None:
        """The world of the snapshot, if there is one of this fixture that `resume` finds its
        log to continue (the log then reads on from there)."""
        self.base = fingerprint(fixture)
        try:
            with open(self.path, "rb") as source:
                if source.readline() != MAGIC:
                    raise ValueError("not a snapshot")
                header = orjson.loads(source.readline())
                if header["fixture"] != self.base:
                    log.warning("%s: a snapshot of another fixture, not used", self.path)
                    return None
                world = _Unpickler(source).load()
        except FileNotFoundError:
            return None
        except (OSError, ValueError, KeyError, EOFError, pickle.UnpicklingError) as exc:
            log.warning("%s: not used (%s)", self.path, exc)
            return None
        mark = Mark(header["offset"], header["lines"], header["last"])
        if not resume(mark):
            log.warning(
                "%s: a snapshot of another log, or of this one before it was cut, not used", self.path
            )
            return None
        if fingerprint(world.fixture) == self.base:  # else a fixture put since: its own
            world.fixture = fixture
        self.taken_at = mark.offset
        return world

    def due(self, offset: int) -> bool:
        """Whether the log has grown enough since the last snapshot for another."""
        return offset - self.taken_at >= EVERY and not self._running()

    def _running(self) -> bool:
        if self._child is None:
            return False
        with contextlib.suppress(ChildProcessError):
            if os.waitpid(self._child, os.WNOHANG)[0] == 0:
                return True
        self._child = None
        return False

    def take(self, world: World, mark: Mark) -> None:
        """Write the snapshot in a forked child; this process goes on serving at once."""
        self.taken_at = mark.offset
        pid = os.fork()
        if pid:
            self._child = pid
            return
        code = 0
        try:
            self.write(world, mark)
        except BaseException:
            code = 1
        finally:
            os._exit(code)

    def write(self, world: World, mark: Mark) -> None:
        """Write the snapshot here and now (whole, or not at all)."""
        header = {
            "fixture": self.base or fingerprint(world.fixture),
            "seq": world.seq,
            "offset": mark.offset,
            "lines": mark.lines,
            "last": mark.last,
        }
        partial = self.path.with_name(f"{self.path.name}.{os.getpid()}.partial")
        try:
            with open(partial, "wb") as out:
                out.write(MAGIC + orjson.dumps(header) + b"\n")
                pickle.dump(world, out, protocol=pickle.HIGHEST_PROTOCOL)
                out.flush()
                os.fsync(out.fileno())
            os.replace(partial, self.path)
        except OSError as exc:
            with contextlib.suppress(OSError):
                partial.unlink()
            log.warning("%s: cannot be written (%s)", self.path, exc.strerror)
        self.taken_at = mark.offset
