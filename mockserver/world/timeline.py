"""The world over time: the fixture's world plus the ordered log of changes applied to it.

Every process serving a world holds a timeline. A change is accepted under the log's lock:
first whatever other processes appended is applied, then the change is checked against the
world as it now stands, applied, and appended with the next sequence number. A process that
serves a request first applies what it has not read, so a change accepted anywhere is seen
everywhere on the next request.
"""

from __future__ import annotations

from mockserver.world import changes
from mockserver.world.changes import Args, Change, ChangeError
from mockserver.world.log import ChangeLog, LogError, MemoryLog
from mockserver.world.state import World


class Timeline:
    def __init__(self, world: World, log: ChangeLog | None = None) -> None:
        self.world = world
        self.log: ChangeLog = log or MemoryLog()

    def catch_up(self) -> None:
        """Apply the changes other processes appended; raises LogError for one that cannot be."""
        for change in self.log.unread():
            if change.seq != self.world.seq + 1:
                raise LogError(
                    f"change {change.seq} follows change {self.world.seq}: the log is out of order"
                )
            try:
                args = changes.resolve(self.world, change.kind, change.args)
            except ChangeError as exc:
                raise LogError(f"change {change.seq}: {exc}") from None
            changes.apply(self.world, Change(change.seq, change.kind, args))

    def submit(self, kind: str, args: Args) -> tuple[Change, Args]:
        """Check, apply and log one change; ChangeError (nothing changed) if it is refused.

        It is logged once applied, still under the lock, so that the log never holds a change
        this process could not apply (which every other process would then fail on too)."""
        with self.log.locked():
            self.catch_up()
            change = Change(self.world.seq + 1, kind, changes.resolve(self.world, kind, args))
            result = changes.apply(self.world, change)
            self.log.append(change)
            return change, result

    def export(self) -> bytes:
        """The log as this process applied it, one JSON line per change: replayable anywhere."""
        return self.log.export()
