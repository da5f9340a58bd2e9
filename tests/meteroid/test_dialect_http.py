"""Both dialects from one server, each request in the one it asks for (`dialect.chooser`), on a
server of either default (the `dialect` fixture here is the server's default)."""

from __future__ import annotations

import pytest

from mockserver.meteroid.dialect import DIALECTS
from mockserver.world.ids import to_base62_id
from tests.meteroid.helpers import (
    AUTH,
    PLAIN_PREFIX,
    check_error,
    check_item,
    check_list,
    expected_ids,
    uuid_of,
)

PINNED_INVOICE = to_base62_id("inv_", "9c0d1e2f-3a4b-4c5d-8e6f-7a8b9c0d1e2f")
ROUTES = (
    ("invoice_list", "/api/v1/invoices"),
    ("invoice", f"/api/v1/invoices/{PINNED_INVOICE}"),
    ("customer_list", "/api/v1/customers"),
    ("customer", "/api/v1/customers/acme"),
)
SDK_AGENT = {"User-Agent": "meteroid-python/0.30.1"}


def other(dialect: str) -> str:
    return "upstream" if dialect == "documented" else "documented"


def asking(dialect: str) -> dict[str, str]:
    return {**AUTH, "Meteroid-Dialect": dialect}


def void_in(dialect: str) -> str:
    return DIALECTS[dialect].status[3]


@pytest.mark.parametrize(("kind", "path"), ROUTES)
async def test_every_route_answers_in_the_dialect_asked_for_and_names_it(client, dialect, kind, path):
    for headers, expected in (
        (AUTH, dialect),  # no choice: the server's default
        ({**AUTH, **SDK_AGENT}, "upstream"),  # the official SDK
        (asking(other(dialect)), other(dialect)),
        ({**asking(dialect), **SDK_AGENT}, dialect),  # the header wins over the SDK's agent
    ):
        response = await client.get(path, headers=headers)
        assert response.status == 200, await response.text()
        assert response.headers["Meteroid-Dialect"] == expected
        assert response.headers["Vary"] == "Meteroid-Dialect, User-Agent"
        assert response.headers["Access-Control-Allow-Origin"] == "*"
        body = await response.json()
        if kind.endswith("_list"):
            check_list(kind.removesuffix("_list"), body, expected)
        else:
            check_item(kind, body, expected)


async def test_one_query_in_both_spellings_interleaved(client, dialect, default_world):
    """Each dialect keeps caches of its own: parsed queries and rendered invoices never leak."""
    expected = expected_ids(default_world, statuses=("void",))
    for _ in range(2):
        for asked in DIALECTS:
            params = {"statuses": void_in(asked), "per_page": "100"}
            response = await client.get("/api/v1/invoices", params=params, headers=asking(asked))
            body = await response.json()
            check_list("invoice", body, asked)
            assert [uuid_of("inv_", item["id"]) for item in body["data"]] == expected
            assert {item["status"] for item in body["data"]} == {void_in(asked)}
            response = await client.get("/api/v1/invoices", params=params, headers=asking(other(asked)))
            assert response.status == 400


async def test_a_status_in_the_other_spelling_says_how_to_ask_for_it(client, dialect):
    for headers, served in (
        (AUTH, dialect),
        ({**AUTH, **SDK_AGENT}, "upstream"),
        (asking("upstream"), "upstream"),
    ):
        wrong = void_in(other(served))
        response = await client.get("/api/v1/invoices", params={"statuses": wrong}, headers=headers)
        assert (response.status, response.content_type) == (400, "text/plain")
        text = await response.text()
        assert text.startswith(f"{PLAIN_PREFIX}unknown variant `{wrong}`, expected one of ")
        assert text.endswith(
            f"; `{wrong}` is the {other(served)} spelling: send `Meteroid-Dialect: {other(served)}` to use it"
        )


@pytest.mark.parametrize("value", ["pascal", "Upstream", ""])
@pytest.mark.parametrize(("kind", "path"), ROUTES)
async def test_an_unknown_dialect_is_a_json_400_on_every_route(client, kind, path, value):
    response = await client.get(path, headers=asking(value))
    assert (response.status, response.content_type) == (400, "application/json")
    body = await response.json()
    check_error(body)
    assert body == {
        "code": "BAD_REQUEST",
        "message": f"Invalid Meteroid-Dialect header '{value}': expected documented or upstream",
    }
