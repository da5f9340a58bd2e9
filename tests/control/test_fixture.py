"""`PUT /_mock/fixture` and `GET /_mock/fixture` through the HTTP test client: the world
replaced as a server started on the new fixture would serve it, bad fixtures refused with
`mockserver check`'s line and nothing changed, reset, isolation, and the change replayed."""

from __future__ import annotations

from pathlib import Path

import orjson
import pytest

from mockserver.control import fixture
from mockserver.generation.fixture import load_fixture
from mockserver.server import build_app
from mockserver.shell.app import Settings
from mockserver.world.log import FileLog
from mockserver.world.snapshot import Snapshots
from mockserver.world.state import World
from mockserver.world.timeline import Timeline
from tests.support import FIXTURES

AUTH = {"Authorization": "Bearer dev-token"}
YAML = {"Content-Type": "application/yaml"}
JSON = {"Content-Type": "application/json"}
SMALL = """# a world of three customers
name: small
seed: 7
now: 2026-03-01T00:00:00Z
generate:
  customers: 3
faults:
  - match: {api: metronome, operation: listCustomers}
    respond: {status: 503}
"""
READS = (
    "/v1/customers?limit=100",
    "/api/v1/invoices?per_page=100&order_by=amount.desc",
    "/api/v1/customers?per_page=100",
    "/_mock/health",
)


@pytest.fixture
async def client(aiohttp_client):
    return await aiohttp_client(build_app(World.from_fixture(load_fixture(None))))


async def state(client) -> tuple:
    """What a bad fixture must leave as it was: health (but its pid), the fixture, the log."""
    health = await (await client.get("/_mock/health")).json()
    del health["pid"]
    text = await (await client.get("/_mock/fixture")).text()
    return health, text, await (await client.get("/_mock/changes")).read()


async def test_a_fixture_put_is_the_world_served_from_then_on(client) -> None:
    answer = await client.put("/_mock/fixture", data=SMALL, headers=YAML)
    assert answer.status == 200
    health = await answer.json()
    assert health["fixture"] == "small" and health["seed"] == 7 and health["seq"] == 1
    assert health["now"] == "2026-03-01T00:00:00Z" and health["counts"]["customers"] == 3
    assert await (await client.get("/_mock/health")).json() == health
    # Its fault rules are the world's: the default fixture's none, the new one's 503.
    assert (await client.get("/v1/customers", headers=AUTH)).status == 503
    listed = await (await client.get("/api/v1/customers?per_page=100", headers=AUTH)).json()
    assert 0 < len(listed["data"]) <= 3  # the archived among its three left out, as ever
    shown = await client.get("/_mock/fixture")
    assert shown.content_type == "application/yaml" and await shown.text() == SMALL  # comments kept
    as_json = await (await client.get("/_mock/fixture", headers={"Accept": "application/json"})).json()
    assert as_json["generate"] == {"customers": 3} and as_json["now"] == "2026-03-01T00:00:00Z"


@pytest.mark.parametrize("media", [*fixture.YAML_TYPES, fixture.JSON_TYPE])
async def test_a_fixture_is_taken_as_yaml_or_json(client, media: str) -> None:
    body = orjson.dumps({"name": "tiny", "generate": {"customers": 2}}) if "json" in media else SMALL
    answer = await client.put("/_mock/fixture", data=body, headers={"Content-Type": media})
    assert answer.status == 200
    assert (await answer.json())["fixture"] == ("tiny" if "json" in media else "small")


async def test_the_fixture_in_effect_is_the_starting_one_until_one_is_put(client) -> None:
    text = (FIXTURES / "default.yaml").read_text()
    assert await (await client.get("/_mock/fixture")).text() == text


@pytest.mark.parametrize(
    ("body", "headers", "status", "message"),
    [
        ("now: 2026-02-30\n", YAML, 400, "invalid fixture: fixture:1: now: expected an RFC 3339"),
        ("name: x\ncolour: red\n", YAML, 400, "invalid fixture: fixture:2: colour: unknown key"),
        ("generate:\n  customers: many\n", YAML, 400, "fixture:2: generate.customers: expected an integer"),
        ("name: [unclosed\n", YAML, 400, "invalid fixture: fixture: is not valid YAML"),
        ("null\n", YAML, 400, "expected a mapping (the fixture), got nothing"),
        ('{"name": ', JSON, 400, "the body is not valid JSON"),
        (b"name: \xff\n", YAML, 400, "the body is not UTF-8 text"),
        ("", YAML, 400, "the body is the fixture"),
        (
            "generate: {customers: 201}\n",
            YAML,
            400,
            "201 customers; a running server takes a fixture of at most 200",
        ),
        ("generate: {customers: 100}\ninvoices: {months: 101}\n", YAML, 400, "up to 10100 invoices"),
        ("auth: {tokens: [secret]}\n", YAML, 400, "fixture: auth.tokens: differs from the running server's"),
        ("isolation: token\n", YAML, 400, "fixture: isolation: differs"),
        ("a: &a [*a]\n", YAML, 400, "an alias names a value that holds it"),
        (
            "a: &a [0, 0, 0, 0, 0, 0, 0, 0, 0, 0]\n"
            + "".join(
                f"{b}: &{b} [{', '.join([f'*{a}'] * 10)}]\n" for a, b in zip("abcd", "bcde", strict=True)
            ),
            YAML,
            400,
            f"holds more than {fixture.MAX_VALUES} values",
        ),
        ("[" * 3000 + "]" * 3000, YAML, 400, "nests too deep to be read"),
        ("name: x\n" + "#" * fixture.MAX_BYTES, YAML, 413, f"at most {fixture.MAX_BYTES} bytes"),
        ("name: x\n", {"Content-Type": "application/xml"}, 415, "application/yaml or application/json"),
    ],
)
async def test_a_bad_fixture_is_refused_in_one_line_and_changes_nothing(
    client, body: str | bytes, headers: dict, status: int, message: str
) -> None:
    await client.post("/_mock/clock", json={"advance": "P1D"})
    before = await state(client)
    answer = await client.put("/_mock/fixture", data=body, headers=headers)
    assert answer.status == status
    refused = await answer.json()
    assert message in refused["message"] and "\n" not in refused["message"]
    assert await state(client) == before


async def test_a_reset_returns_to_the_fixture_put_and_a_put_forgets_the_changes_before(client) -> None:
    await client.post("/_mock/faults", json={"respond": {"status": 500}})
    await client.post("/_mock/webhooks", json={"url": "http://127.0.0.1:9/hook", "api": "metronome"})
    await client.post("/_mock/clock", json={"advance": "P1M"})
    await client.put("/_mock/fixture", data=SMALL, headers=YAML)
    # Like a start on the new fixture: its own rules, no endpoint registered before.
    rules = (await (await client.get("/_mock/faults")).json())["rules"]
    assert [rule["respond"] for rule in rules] == [{"status": 503}]
    assert (await (await client.get("/_mock/webhooks")).json())["data"] == []
    fresh = await (await client.get("/api/v1/invoices?per_page=100", headers=AUTH)).read()
    await client.post("/_mock/clock", json={"advance": "P2M"})
    await client.delete("/_mock/faults")
    reset = await (await client.post("/_mock/reset")).json()
    assert reset["now"] == "2026-03-01T00:00:00Z" and reset["seq"] == 7
    assert await (await client.get("/api/v1/invoices?per_page=100", headers=AUTH)).read() == fresh
    assert len((await (await client.get("/_mock/faults")).json())["rules"]) == 1
    assert await (await client.get("/_mock/fixture")).text() == SMALL


async def test_the_exported_change_rebuilds_the_same_world(client, aiohttp_client, tmp_path: Path) -> None:
    await client.post("/_mock/clock", json={"advance": "P1M"})
    await client.put("/_mock/fixture", data=SMALL, headers=YAML)
    await client.post("/_mock/clock", json={"advance": "P1M"})
    exported = await (await client.get("/_mock/changes")).read()
    line = orjson.loads(exported.splitlines()[1])
    assert line == {"seq": 2, "kind": "fixture", "text": SMALL}
    path = tmp_path / "changes.jsonl"
    path.write_bytes(exported)
    replayed = Timeline(World.from_fixture(load_fixture(None)), FileLog(path), build=fixture.world_of)
    await replayed.catch_up()
    snapshots = Snapshots(path)
    assert snapshots.read(load_fixture(None), replayed.log.resume) is None
    snapshots.write(replayed.world, replayed.log.mark())
    restored = Snapshots(path).read(load_fixture(None), FileLog(path).resume)
    assert restored is not None and restored.fixture.name == "small"
    for world in (replayed.world, restored):
        other = await aiohttp_client(build_app(world))
        for read in READS:
            mine, theirs = await client.get(read, headers=AUTH), await other.get(read, headers=AUTH)
            assert (mine.status, await mine.read()) == (theirs.status, await theirs.read())


async def test_under_isolation_a_token_replaces_its_own_world(aiohttp_client) -> None:
    world = World.from_fixture(load_fixture(None))
    client = await aiohttp_client(build_app(world, Settings(isolation="token")))
    mine, theirs = {"Authorization": "Bearer mine"}, {"Authorization": "Bearer theirs"}
    assert (await client.put("/_mock/fixture", data=SMALL, headers={**YAML, **mine})).status == 200
    assert (await (await client.get("/_mock/health", headers=mine)).json())["fixture"] == "small"
    assert (await (await client.get("/_mock/health", headers=theirs)).json())["fixture"] == "default"
    reset = await (await client.post("/_mock/reset", headers=mine)).json()
    assert reset["now"] == "2026-03-01T00:00:00Z"


async def _chunks(text: str, size: int = 16 * 1024):
    for start in range(0, len(text), size):
        yield text[start : start + size].encode()


async def test_a_large_fixture_sent_in_chunks_is_read_whole_and_one_too_large_refused(client) -> None:
    padded = SMALL + "# a line of notes\n" * (200 * 1024 // 18)  # 200 KiB, in 16 KiB chunks
    answer = await client.put("/_mock/fixture", data=_chunks(padded), headers=YAML)
    assert answer.status == 200
    assert await (await client.get("/_mock/fixture")).text() == padded
    over = padded + "#" * (fixture.MAX_BYTES - len(padded) + 1)
    answer = await client.put("/_mock/fixture", data=_chunks(over), headers=YAML)
    assert answer.status == 413
    assert await (await client.get("/_mock/fixture")).text() == padded


async def test_a_fixture_at_the_documented_bounds_is_taken(client) -> None:
    put = (await (await client.get("/_mock/openapi/control.json")).json())["components"]["schemas"][
        "FixturePut"
    ]
    most = put["properties"]["generate"]["properties"]["customers"]["maximum"]
    months = fixture.MAX_INVOICES // most
    body = f"generate: {{customers: {most}}}\ninvoices: {{months: {months}}}\n"
    answer = await client.put("/_mock/fixture", data=body, headers=YAML)
    assert answer.status == 200 and (await answer.json())["counts"]["customers"] == most
