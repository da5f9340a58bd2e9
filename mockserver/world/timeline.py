"""The world over time: the fixture's world plus the ordered log of changes applied to it.

Every process serving a world holds a timeline. A change is accepted under the log's lock,
write-ahead (or, where the log compares rather than locks, retried until no other
change came first): first whatever other processes appended is applied (where the log
compares, only once an append found that another came first), then the change is checked
against the world as it now stands and resolved, serialised (a change that cannot be is
refused), appended with the next sequence number (a change that cannot be written is refused,
nothing applied) and only then applied. A `fixture` change replaces the world whole, built
from the fixture's text by the `build` the timeline is given (the world does not read
fixtures), before it is logged and again wherever the log is applied. A process that serves
a request first applies what it has not read, so a change accepted anywhere is seen
everywhere on the next request. Within one process, its requests take turns (a lock of its
event loop): a change is resolved, appended and applied before the next one is resolved,
while a log reached over the network is awaited.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable

import orjson

from mockserver.world import changes
from mockserver.world.changes import FIXTURE, Args, Build, Change, ChangeError, Unchanged
from mockserver.world.log import ChangeLog, FileLog, LogConflict, LogError
from mockserver.world.snapshot import Snapshots
from mockserver.world.state import World
from mockserver.world.turns import PerLoop

log = logging.getLogger("mockserver")

DIVERGED = 70  # the exit status of a process whose world no longer follows its log


class Diverged(SystemExit):
    """A logged change this process could not apply: its world is no longer the log's, so it
    stops (crash-only) and is replaced by one that replays the log."""


class Timeline:
    def __init__(
        self,
        world: World,
        log: ChangeLog | None = None,
        snapshots: Snapshots | None = None,
        build: Build | None = None,
    ) -> None:
        """`snapshots`, for a log file kept for good: where its world is snapshotted as it grows;
        `build`, how to make the world of a fixture's text (without it, `fixture` changes are
        refused)."""
        self.world = world
        self.build = build
        self.replaced: list[Callable[[], None]] = []  # told when a `fixture` change replaced the world
        self.log: ChangeLog = log or FileLog()
        if snapshots is not None and not isinstance(self.log, FileLog):
            raise TypeError("snapshots are kept beside a log file")
        # The file and its snapshots, where there are any: checked after each change logged.
        self._kept = (self.log, snapshots) if snapshots is not None else None
        # Told of each change this process logs, before it is acknowledged.
        self.observers: list[Callable[[Change], Awaitable[None]]] = []
        self._writers = PerLoop(asyncio.Lock)  # this process's writers take turns

    async def catch_up(self) -> None:
        """Apply the changes other processes appended; raises LogError for one that cannot be."""
        async with self._writers():
            await self._catch_up()

    async def _catch_up(self) -> None:
        async for change in self.log.unread():
            if change.seq != self.world.seq + 1:
                raise LogError(
                    f"change {change.seq} follows change {self.world.seq}: the log is out of order"
                )
            try:
                args, built = self._resolve(change.kind, change.args, logged=True)
            except ChangeError as exc:
                raise LogError(f"change {change.seq}: {exc}") from None
            if isinstance(args, Unchanged):
                raise LogError(f"change {change.seq}: it changes nothing")
            try:
                self._apply(Change(change.seq, change.kind, args), built)
            except Exception as exc:  # the world keeps its seq: every later change is refused
                log.exception("change %d of the log could not be applied", change.seq)
                raise LogError(f"change {change.seq} cannot be applied ({exc})") from None

    async def submit(self, kind: str, args: Args) -> tuple[Change | None, Args]:
        """Check, log and apply one change; ChangeError (nothing changed) if it is refused,
        LogWriteError (nothing changed) if the log cannot take it. A change that changes
        nothing (a batch of duplicates) is not logged: its change is None."""
        if self.world.frozen:
            raise RuntimeError("a frozen world is not changed: change a copy of it")
        behind = False
        async with self._writers():
            while True:
                try:
                    return await self._submit(kind, args, behind)
                except LogConflict:
                    behind = True  # another process appended first: read it, resolve again

    async def _submit(self, kind: str, args: Args, behind: bool) -> tuple[Change | None, Args]:
        async with self.log.locked():
            if behind or not self.log.compares:  # else the append says whether another came first
                await self._catch_up()
            resolved, built = self._resolve(kind, args)
            if isinstance(resolved, Unchanged):
                return None, resolved.result
            change = Change(self.world.seq + 1, kind, resolved)
            try:
                line = change.line()
            except orjson.JSONEncodeError as exc:
                raise ChangeError(f"the change cannot be stored: {exc}") from None
            await self.log.append(line)
            try:
                result = self._apply(change, built)
            except Exception:
                # Never acknowledged: taken back out of the log, and this process, whose world
                # it may have half changed, stops.
                await self.log.retract()
                log.critical("change %d could not be applied; stopping", change.seq, exc_info=True)
                raise Diverged(DIVERGED) from None
        for observer in self.observers:  # once other processes may append again
            await observer(change)
        kept = self._kept
        if kept is not None and kept[1].due(kept[0].offset):
            kept[1].take(self.world, kept[0].mark())  # forked once the lock is let go
        return change, result

    def _resolve(self, kind: str, args: Args, logged: bool = False) -> tuple[Args | Unchanged, World | None]:
        """A change's arguments as they are logged (`logged`: as read back from the log), and
        for a `fixture` change the world it makes (built here, so that a fixture that cannot be
        served is refused, never logged)."""
        resolved = (changes.reread if logged else changes.resolve)(self.world, kind, args)
        if kind != FIXTURE or isinstance(resolved, Unchanged):
            return resolved, None
        if self.build is None:
            raise ChangeError("fixture: this server does not read fixtures while it serves")
        change = Change(self.world.seq + 1, kind, resolved)
        return resolved, changes.replaced(self.world, change, self.build)

    def _apply(self, change: Change, built: World | None) -> Args:
        if built is None:
            return changes.apply(self.world, change)
        self.world = built
        for told in self.replaced:
            told()
        return {}

    async def export(self) -> bytes:
        """The log as this process applied it, one JSON line per change: replayable anywhere."""
        return b"".join([chunk async for chunk in self.log.export()])
