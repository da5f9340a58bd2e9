"""Hostile input: whatever a client sends, the server answers quickly, in the emulated API's
own error shape, and changes nothing it refused."""

from __future__ import annotations

import asyncio
import time

import orjson
import pytest

from mockserver.generation.fixture import load_fixture
from mockserver.server import build_app
from mockserver.world.faults import RuleError, parse_rules
from mockserver.world.glob import Glob
from mockserver.world.state import World

AUTH = {"Authorization": "Bearer dev-token"}
JSON = {"Content-Type": "application/json"}
ACME = "7b2f6a3e-1c4d-4e5f-8a9b-0c1d2e3f4a5b"
MANY_DIGITS = "9" * 5000
PYTHON_WORDS = ("int_max_str_digits", "Traceback", "invalid literal")


@pytest.fixture
async def client(aiohttp_client):
    """A world of its own per test: the tests change it."""
    return await aiohttp_client(build_app(World.from_fixture(load_fixture(None))))


async def post_json(client, path: str, body: object, headers: dict | None = None):
    return await client.post(path, data=orjson.dumps(body), headers={**JSON, **(headers or {})})


async def clock(client) -> dict:
    return await (await client.get("/_mock/clock")).json()


@pytest.mark.parametrize(
    ("move", "says"),
    [
        ({"advance": "P1000Y"}, "past its horizon 2031-11-15T12:00:00Z (5 years after"),
        ({"advance": "P6000Y"}, "past its horizon"),
        ({"to": "9999-12-31T23:59:59Z"}, "past its horizon 2031-11-15T12:00:00Z"),
        ({"to": "9999-12-31T23:59:59-01:00"}, "lies outside the years 0001 to 9999"),
        ({"to": "2020-01-01T00:00:00Z"}, "the clock only moves forward"),
        ({"advance": f"P{MANY_DIGITS}D"}, "has a number of more than 9 digits"),
    ],
)
async def test_a_clock_move_past_the_horizon_is_refused_at_once(client, move, says) -> None:
    started = time.perf_counter()
    response = await post_json(client, "/_mock/clock", move)
    assert time.perf_counter() - started < 0.5
    assert response.status == (400 if "digits" in says else 409)  # 409: well-formed, not from here
    message = (await response.json())["message"]
    assert says in message and len(message) < 400
    assert await clock(client) == {"now": "2026-11-15T12:00:00Z", "seq": 0}


async def test_health_answers_while_the_furthest_move_runs(client) -> None:
    move = asyncio.create_task(post_json(client, "/_mock/clock", {"advance": "P5Y"}))
    await asyncio.sleep(0.05)
    started = time.perf_counter()
    assert (await client.get("/_mock/health")).status == 200
    assert time.perf_counter() - started < 0.5
    assert (await move).status == 200
    assert (await clock(client))["now"] == "2031-11-15T12:00:00Z"


@pytest.mark.parametrize(
    "path",
    [
        f"/_mock/requests?limit={MANY_DIGITS}",
        f"/_mock/requests?since={MANY_DIGITS}",
        f"/_mock/requests?status={MANY_DIGITS}",
        "/_mock/requests?limit=1_0",
        "/_mock/requests?limit=%D9%A5",  # an Arabic-Indic five
        f"/v1/customers?limit={MANY_DIGITS}",
        f"/v1/customers/{ACME}/invoices?limit={MANY_DIGITS}",
        f"/api/v1/invoices?page={MANY_DIGITS}",
        f"/api/v1/customers?per_page={MANY_DIGITS}",
    ],
)
async def test_a_number_of_any_length_gets_the_apis_own_400(client, path) -> None:
    response = await client.get(path, headers=AUTH)
    assert response.status == 400
    text = await response.text()
    assert len(text) < 400 and not any(words in text for words in PYTHON_WORDS), text


MANY_STARS = "/" + "/".join(["**"] * 30) + "/x"  # matches no path of those below: backtracks most


async def test_a_glob_of_many_stars_matches_a_long_path_at_once(client) -> None:
    rule = {"match": {"path": MANY_STARS}, "respond": {"status": 503}}
    assert (await post_json(client, "/_mock/faults", rule)).status == 200
    long_path = "/v1/customers/" + "a/" * 4000  # 8 KB: near the longest request line taken
    started = time.perf_counter()
    assert (await client.get(long_path, headers=AUTH)).status == 404  # the rule does not fire
    assert (await client.get(f"/_mock/requests?path={MANY_STARS}")).status == 200
    assert time.perf_counter() - started < 0.5


@pytest.mark.parametrize(
    ("pattern", "path", "matches"),
    [
        ("/v1/**", "/v1/customers/x/invoices", True),
        ("/v1/*/x", "/v1/customers/x", True),
        ("/v1/*", "/v1/customers/x", False),
        ("/**/invoices", "/api/v1/invoices", True),
        ("/**/**/x", "/x", False),
        ("/**/**/x", "///x", True),
        ("/v?/c*s", "/v1/customers", True),
        ("/v?/c*s", "/v/1/customers", False),
        ("/[av][p1]*/**", "/api/v1/invoices", True),
        ("/[!a]*", "/api", False),
        ("/[^a]", "/b", False),  # `^` is itself in a class; `!` negates
        ("/[z-a]", "/z", False),  # a range from high to low holds nothing
        ("/*x*x*x*x*x*x*x*x*x*y", "/" + "x" * 8000, False),
    ],
)
def test_globs_match_as_documented(pattern, path, matches) -> None:
    assert Glob(pattern).match(path) is matches


@pytest.mark.parametrize(
    ("match", "named"),
    [
        ({"api": "metronomee"}, "match.api: expected one of metronome, meteroid, got 'metronomee'"),
        ({"operation": "nope"}, "match.operation: expected one of metronome.listInvoices, "),
        ({"api": "meteroid", "operation": "metronome.getCustomer"}, "expected one of meteroid.listInvoices"),
        ({"api": "meteroid", "operation": "ingest"}, "(or the part after the dot), got 'ingest'"),
        (
            {"method": "FETCH"},
            "match.method: expected one of DELETE, GET, HEAD, PATCH, POST, PUT, got 'FETCH'",
        ),
        ({"method": "get"}, "match.method: expected one of DELETE, GET, HEAD, PATCH, POST, PUT, got 'get'"),
        (
            {"operation": "listInvoices", "method": "POST"},
            "match.method: expected one of GET, HEAD, got 'POST'",
        ),
        ({"api": "metronome", "method": "PUT"}, "match.method: expected one of GET, HEAD, POST, got 'PUT'"),
    ],
)
async def test_a_rule_that_could_never_match_is_refused_listing_what_exists(client, match, named) -> None:
    response = await post_json(client, "/_mock/faults", {"match": match, "respond": {"status": 500}})
    assert response.status == 400
    assert named in (await response.json())["message"]
    assert await (await client.get("/_mock/faults")).json() == {"rules": []}


@pytest.mark.parametrize(
    "match",
    [
        {"api": "meteroid", "operation": "getCustomer", "method": "GET"},
        {"operation": "metronome.ingest", "method": "POST"},
        {"method": "HEAD"},
    ],
)
async def test_rules_naming_what_exists_are_taken(client, match) -> None:
    response = await post_json(client, "/_mock/faults", {"match": match, "respond": {"status": 500}})
    assert response.status == 200


def nested(depth: int) -> object:
    """A JSON value of `depth` levels of arrays."""
    value: object = 0
    for _ in range(depth):
        value = [value]
    return value


def deep_body(template: str, depth: int) -> bytes:
    """`template` with DEEP replaced by arrays nested `depth` deep, as text: no encoder writes them."""
    return template.replace("DEEP", "[" * depth + "0" + "]" * depth).encode()


async def test_a_rule_nested_300_deep_is_refused_and_the_rules_still_list(client) -> None:
    body = deep_body('{"respond": {"status": 500, "body": DEEP}}', 300)
    response = await client.post("/_mock/faults", data=body, headers=JSON)
    assert response.status == 400
    assert "nests deeper than 32 levels" in (await response.json())["message"]
    listed = await client.get("/_mock/faults")
    assert listed.status == 200 and await listed.json() == {"rules": []}


def test_a_rule_nested_too_deep_in_a_fixture_is_refused() -> None:
    with pytest.raises(RuleError, match=r"\[0\].respond.body: nests deeper than 32 levels"):
        parse_rules([{"respond": {"status": 500, "body": nested(40)}}])


@pytest.mark.parametrize(
    ("path", "template", "depth", "says"),
    [
        ("/v1/ingest", '[{"transaction_id": "t", "properties": {"a": DEEP}}]', 100, "deeper than 32 levels"),
        ("/v1/customers", '{"name": "Deep", "custom_fields": DEEP}', 40, "deeper than 32 levels"),
        ("/api/v1/customers", '{"name": "Deep", "currency": "EUR", "x": DEEP}', 40, "deeper than 32"),
        ("/api/v1/events/ingest", '{"events": DEEP}', 300, "Failed to parse the request body as JSON"),
        ("/_mock/clock", '{"advance": DEEP}', 40, "deeper than 32 levels"),
    ],
)
async def test_a_body_nested_too_deep_is_refused_before_anything_runs(
    client, path, template, depth, says
) -> None:
    response = await client.post(path, data=deep_body(template, depth), headers={**JSON, **AUTH})
    assert response.status == 400
    assert says in await response.text()
    customers = await client.get("/v1/customers", params={"limit": 100}, headers=AUTH)
    assert "Deep" not in {customer["name"] for customer in (await customers.json())["data"]}
    assert await clock(client) == {"now": "2026-11-15T12:00:00Z", "seq": 0}


async def test_a_body_just_within_the_depth_is_taken(client) -> None:
    rule = {"respond": {"status": 500, "body": nested(29)}}
    assert (await post_json(client, "/_mock/faults", rule)).status == 200
    assert (await client.get("/_mock/faults")).status == 200


async def raw_request(client, method: str, path: str, headers: bytes, body: bytes = b"") -> tuple[int, bytes]:
    """A request sent as bytes, for headers no client library writes; its status and body."""
    reader, writer = await asyncio.open_connection(client.server.host, client.server.port)
    head = f"{method} {path} HTTP/1.1\r\nHost: mock\r\nConnection: close\r\nContent-Length: {len(body)}\r\n"
    writer.write(head.encode() + headers + b"\r\n" + body)
    answer = await reader.read()
    writer.close()
    status_line, _, rest = answer.partition(b"\r\n")
    return int(status_line.split()[1]), rest.partition(b"\r\n\r\n")[2]


@pytest.mark.parametrize(
    ("method", "path", "status", "says"),
    [
        ("POST", "/v1/customers", 401, b'"message":"the Authorization header is not valid UTF-8"'),
        ("POST", "/api/v1/customers", 401, b"the Authorization header is not valid UTF-8"),
        ("POST", "/_mock/reset", 400, b'"message":"the Authorization header is not valid UTF-8"'),
    ],
)
async def test_an_authorization_header_not_utf8_is_refused_before_any_route_runs(
    client, method, path, status, says
) -> None:
    body = b'{"name": "Bytes", "currency": "EUR"}'
    headers = b"Authorization: Bearer \xff\xfe\r\nContent-Type: application/json\r\n"
    answer = await raw_request(client, method, path, headers, body)
    assert answer[0] == status and says in answer[1]
    customers = await client.get("/v1/customers", params={"limit": 100}, headers=AUTH)
    assert "Bytes" not in {customer["name"] for customer in (await customers.json())["data"]}
    assert (await clock(client))["seq"] == 0


EVIL = {"Origin": "http://evil.example"}


@pytest.mark.parametrize(
    ("method", "path", "data", "headers", "says"),
    [
        ("POST", "/_mock/reset", None, EVIL, "a page of 'http://evil.example' may not change this server"),
        ("DELETE", "/_mock/faults", None, EVIL, "takes no cross-site writes"),
        ("DELETE", "/_mock/requests", None, {"Origin": "null"}, "takes no cross-site writes"),
        ("POST", "/_mock/clock", b'{"advance": "P1D"}', {**JSON, **EVIL}, "takes no cross-site writes"),
        ("POST", "/_mock/clock", b'{"advance": "P1D"}', {"Content-Type": "text/plain"}, "of type text/plain"),
        ("POST", "/_mock/reset", b"a=1", {"Content-Type": "application/x-www-form-urlencoded"}, "any site"),
        ("POST", "/_mock/faults", b"--x--", {"Content-Type": "multipart/form-data; boundary=x"}, "any site"),
    ],
)
async def test_a_control_write_a_page_of_another_site_could_send_is_refused(
    client, method, path, data, headers, says
) -> None:
    await post_json(client, "/_mock/clock", {"advance": "P1D"})
    response = await client.request(method, path, data=data, headers=headers)
    assert response.status == 403
    assert says in (await response.json())["message"]
    assert "Access-Control-Allow-Origin" not in response.headers
    assert await clock(client) == {"now": "2026-11-16T12:00:00Z", "seq": 1}


async def test_the_control_planes_cors_admits_no_other_origin_but_the_apis_do(client) -> None:
    preflight = {
        **EVIL,
        "Access-Control-Request-Method": "POST",
        "Access-Control-Request-Headers": "content-type",
    }
    control = await client.options("/_mock/faults", headers=preflight)
    assert "Access-Control-Allow-Origin" not in control.headers
    api = await client.options("/v1/customers", headers=preflight)
    assert api.headers["Access-Control-Allow-Origin"] == "*"
    moved = await post_json(client, "/_mock/clock", {"advance": "P1D"})
    assert moved.status == 200 and "Access-Control-Allow-Origin" not in moved.headers


async def test_scripts_and_the_same_origin_inspector_still_write(client) -> None:
    assert (await client.post("/_mock/reset")).status == 200  # bodiless, no Origin: curl
    own = {"Origin": f"http://{client.server.host}:{client.server.port}"}
    assert (await post_json(client, "/_mock/clock", {"advance": "P1D"}, own)).status == 200
    assert (await client.post("/_mock/reset", headers=own)).status == 200
    assert (
        await client.delete("/_mock/faults", headers={"Origin": "https://" + own["Origin"][7:]})
    ).status == 200
    assert (await clock(client))["seq"] == 4


@pytest.mark.parametrize(
    ("rule", "status"),
    [
        ({"respond": {"status": 503, "delay_ms": 1.0}, "times": 2.0}, 200),  # JSON's integers
        ({"respond": {"status": 503}, "probability": None}, 400),  # null is no way to leave it out
        ({"respond": {"status": None, "drop": True}}, 400),
        ({"respond": {"status": 503, "body": None}}, 200),  # the body may be null itself
    ],
)
async def test_a_rule_reads_json_as_its_document_does(client, rule, status) -> None:
    assert (await post_json(client, "/_mock/faults", rule)).status == status


@pytest.mark.parametrize(
    ("query", "says"),
    [
        ("path=", "path: expected a non-empty value"),
        ("operation=", "operation: expected a non-empty value"),
        (f"since={2**63}", f"since: expected an integer from 0 to {2**63 - 1}"),
    ],
)
async def test_the_journal_refuses_what_its_document_refuses(client, query, says) -> None:
    response = await client.get(f"/_mock/requests?{query}")
    assert response.status == 400 and says in (await response.json())["message"]


async def test_a_bodyless_reset_works_but_a_null_body_is_no_object(client) -> None:
    assert (await client.post("/_mock/reset")).status == 200
    refused = await client.post("/_mock/reset", data=b"null", headers=JSON)
    assert refused.status == 400 and "must be a JSON object" in (await refused.json())["message"]


@pytest.mark.parametrize(
    "subscription",
    ["0c491c76-0000-4000-8000-0000000000-00", "{0c491c7600004000800000000000000}", "urn:0c491c76"],
)
async def test_a_subscription_id_is_a_sub_id_or_a_uuid_as_the_document_says(client, subscription) -> None:
    response = await client.get("/api/v1/invoices", params={"subscription_id": subscription}, headers=AUTH)
    assert response.status == 400 and "invalid SubscriptionId" in await response.text()
