"""List pages are kept while their world stands as it was: the same query answered with the
bytes made first, any change making them again, memory bounded whatever the queries."""

from __future__ import annotations

import pytest

from mockserver.server import build_app
from mockserver.shell.pages import Pages
from mockserver.world.state import World
from tests.metronome.conftest import AUTH

ACME = "7b2f6a3e-1c4d-4e5f-8a9b-0c1d2e3f4a5b"


class Maker:
    """What makes pages: counts how often it was asked to."""

    def __init__(self) -> None:
        self.made = 0

    def __call__(self, text: bytes = b"page") -> bytes:
        self.made += 1
        return text


def test_a_query_asked_again_before_a_change_is_made_once() -> None:
    pages, maker = Pages(), Maker()
    assert pages.page(maker, 1, "q", maker) == pages.page(maker, 1, "q", maker) == b"page"
    assert maker.made == 1
    pages.page(maker, 2, "q", maker)  # the world changed
    pages.page(maker, 2, "other", maker)
    assert maker.made == 3


def test_pages_of_different_makers_are_their_own() -> None:
    pages, one, other = Pages(), Maker(), Maker()
    assert pages.page(one, 1, "q", lambda: b"one") == b"one"
    assert pages.page(other, 1, "q", lambda: b"other") == b"other"


def test_a_refused_query_keeps_nothing() -> None:
    pages, maker = Pages(), Maker()

    def refuse() -> bytes:
        raise ValueError("bad query")

    with pytest.raises(ValueError):
        pages.page(maker, 1, "q", refuse)
    assert len(pages) == 0 and pages.page(maker, 1, "q", maker) == b"page"


def test_the_pages_used_least_recently_go_first_and_the_budget_holds() -> None:
    pages, maker = Pages(budget=100), Maker()
    for name in ("a", "b", "c"):
        pages.page(maker, 1, name, lambda: b"x" * 40)
    assert pages.size <= 100 and len(pages) == 2  # "a" dropped
    made = maker.made
    pages.page(maker, 1, "b", maker)
    assert maker.made == made  # "b" still kept
    pages.page(maker, 1, "a", maker)
    assert maker.made == made + 1


@pytest.fixture
async def writer(aiohttp_client, default_world: World):
    client = await aiohttp_client(build_app(default_world), headers=AUTH)
    yield client
    assert (await client.post("/_mock/reset")).status == 200


async def test_a_list_read_again_after_a_write_shows_it(writer) -> None:
    """Both APIs' lists, read, then a customer's invoice voided, then read again."""
    path = f"/v1/customers/{ACME}/invoices"
    listed = (await (await writer.get(path, params={"status": "FINALIZED", "limit": 5})).json())["data"]
    void = {"statuses": "Void", "per_page": 5}
    meteroid = (await (await writer.get("/api/v1/invoices", params=void)).json())["pagination_meta"]
    voided = listed[0]["id"]
    assert (await writer.post("/v1/invoices/void", json={"id": voided})).status == 200
    again = (await (await writer.get(path, params={"status": "FINALIZED", "limit": 5})).json())["data"]
    assert voided not in [invoice["id"] for invoice in again]
    again_meteroid = (await (await writer.get("/api/v1/invoices", params=void)).json())["pagination_meta"]
    assert again_meteroid["total_items"] == meteroid["total_items"] + 1


def test_a_budget_of_nothing_keeps_nothing() -> None:
    pages, maker = Pages(budget=0), Maker()
    pages.page(maker, 1, "q", maker)
    pages.page(maker, 1, "q", maker)
    assert maker.made == 2 and len(pages) == 0
