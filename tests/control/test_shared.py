"""Handing what one process recorded to a list its world's processes share: each document
once, and what the list could not take handed at the next time."""

from __future__ import annotations

import asyncio

from mockserver.control.shared import Publisher, Recorded, StoreError

RECORDED: Recorded = [(float(n), {"n": n}) for n in range(5)]


class Slow:
    """A shared list that takes a while to answer, and may be unreachable."""

    def __init__(self) -> None:
        self.kept: Recorded = []
        self.reachable = True

    async def add(self, recorded: Recorded) -> None:
        await asyncio.sleep(0.01)
        if not self.reachable:
            raise StoreError("unreachable")
        self.kept += recorded


def unhanded(count: int):
    """The first `count` documents recorded so far, past those handed."""
    return lambda since: (count, RECORDED[since:count])


async def test_two_hand_overs_at_once_hand_each_document_once() -> None:
    shared = Slow()
    publisher = Publisher(shared, "refused")
    await asyncio.gather(publisher.hand(unhanded(3)), publisher.hand(unhanded(3)))
    assert shared.kept == RECORDED[:3]


async def test_what_the_list_cannot_take_is_handed_the_next_time(caplog) -> None:
    shared = Slow()
    publisher = Publisher(shared, "the journal cannot be shared now")
    await publisher.hand(unhanded(2))
    shared.reachable = False
    await publisher.hand(unhanded(4))
    assert shared.kept == RECORDED[:2] and "the journal cannot be shared now: unreachable" in caplog.text
    shared.reachable = True
    await publisher.hand(unhanded(5))
    assert shared.kept == RECORDED
