"""`/_mock/webhooks`: endpoints registered as changes of the world, with deterministic ids and
secrets, and refused whole (400 naming the field) when any field is wrong."""

from __future__ import annotations

import base64
import re

import orjson
import pytest

from mockserver.generation.fixture import load_fixture, parse_fixture
from mockserver.server import build_app
from mockserver.world.changes import Change
from mockserver.world.spec import FixtureError
from mockserver.world.state import World
from mockserver.world.timeline import Timeline
from tests.webhooks.conftest import JSON, post, register


async def test_an_endpoint_is_registered_listed_and_deleted(client, receiver) -> None:
    made = await register(client, receiver, "meteroid", types=["invoice.paid", "invoice.created"])
    assert made["api"] == "meteroid" and made["types"] == ["invoice.created", "invoice.paid"]
    assert made["secret"].startswith("whsec_") and len(base64.b64decode(made["secret"][6:])) == 24
    listed = await (await client.get("/_mock/webhooks")).json()
    assert listed == {"data": [made]}
    gone = await client.delete(f"/_mock/webhooks/{made['id']}")
    assert gone.status == 200 and (await gone.json()) == {"deleted": made["id"]}
    assert (await (await client.get("/_mock/webhooks")).json()) == {"data": []}
    assert (await client.delete(f"/_mock/webhooks/{made['id']}")).status == 404


async def test_ids_and_secrets_come_from_the_seed_and_a_replay_knows_them(client, receiver) -> None:
    metronome = await register(client, receiver, "metronome")
    given = await register(client, receiver, "metronome", secret="my secret", id="mine")
    assert len(metronome["secret"]) == 48 and given["secret"] == "my secret" and given["id"] == "mine"
    log = await (await client.get("/_mock/changes")).read()
    assert [orjson.loads(line)["kind"] for line in log.splitlines()] == ["webhook.create"] * 2
    replayed = Timeline(World.from_fixture(load_fixture(None)))
    for line in log.splitlines():
        await replayed.submit(*_kind_and_args(line))
    assert [e.public() for e in replayed.world.hooks.endpoints.values()] == [metronome, given]
    again = Timeline(World.from_fixture(load_fixture(None)))
    fresh, _ = await again.submit("webhook.create", {"url": "http://x.test/", "api": "metronome"})
    assert fresh is not None and again.world.hooks.endpoints[metronome["id"]].secret == metronome["secret"]


def _kind_and_args(line: bytes) -> tuple[str, dict]:
    change = Change.from_line(line)
    return change.kind, change.args


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"url": "ftp://x.test/", "api": "metronome"}, "url"),
        ({"url": "http:///nohost", "api": "metronome"}, "url"),
        ({"url": "http://a..test/", "api": "metronome"}, "url"),  # an empty label: no name to resolve
        ({"url": f"http://{'x' * 64}.test/", "api": "metronome"}, "url"),  # a label past 63
        ({"url": "http://x.test:65536/", "api": "metronome"}, "url"),
        ({"url": 7, "api": "metronome"}, "url"),
        ({"url": "http://x.test/", "api": "stripe"}, "api"),
        ({"url": "http://x.test/"}, "api"),
        ({"url": "http://x.test/", "api": "metronome", "types": ["invoice.paid"]}, "types[0]"),
        ({"url": "http://x.test/", "api": "meteroid", "types": []}, "types"),
        ({"url": "http://x.test/", "api": "meteroid", "secret": "plain"}, "secret"),
        ({"url": "http://x.test/", "api": "meteroid", "secret": "whsec_!!"}, "secret"),
        ({"url": "http://x.test/", "api": "metronome", "secret": ""}, "secret"),
        ({"url": "http://x.test/", "api": "metronome", "retry_scale": 2}, "retry_scale"),
        ({"url": "http://x.test/", "api": "metronome", "retry_scale": True}, "retry_scale"),
        ({"url": "http://x.test/", "api": "metronome", "timeout_ms": 0}, "timeout_ms"),
        ({"url": "http://x.test/", "api": "metronome", "id": "a b"}, "id"),
        ({"url": "http://x.test/", "api": "metronome", "colour": "red"}, "colour"),
    ],
)
async def test_bad_input_is_refused_naming_the_field_and_registers_nothing(client, body, field) -> None:
    status, answer = await post(client, "/_mock/webhooks", body)
    assert status == 400 and answer["message"].startswith(f"{field}:"), answer
    assert (await (await client.get("/_mock/webhooks")).json()) == {"data": []}


async def test_a_body_that_is_not_an_object_is_refused(client) -> None:
    answer = await client.post("/_mock/webhooks", data=b"[1]", headers=JSON)
    assert answer.status == 400 and "JSON object" in (await answer.json())["message"]


WITH_WEBHOOKS = """
seed: 7
webhooks:
  - url: http://127.0.0.1:9/meteroid
    api: meteroid
    types: [invoice.paid]
  - {url: http://127.0.0.1:9/metronome, api: metronome, id: billing, secret: s3cret}
"""


async def test_a_fixtures_endpoints_are_there_from_the_start_and_after_a_reset(
    aiohttp_client, receiver
) -> None:
    client = await aiohttp_client(build_app(World.from_fixture(parse_fixture(WITH_WEBHOOKS, "hooks.yaml"))))
    listed = (await (await client.get("/_mock/webhooks")).json())["data"]
    assert [(e["api"], e["types"]) for e in listed] == [("meteroid", ["invoice.paid"]), ("metronome", None)]
    assert listed[0]["secret"].startswith("whsec_") and listed[1]["id"] == "billing"
    again = World.from_fixture(parse_fixture(WITH_WEBHOOKS, "hooks.yaml"))
    assert [e.public() for e in again.hooks.endpoints.values()] == listed
    await register(client, receiver, "metronome")
    await client.delete("/_mock/webhooks/billing")
    status, _ = await post(client, "/_mock/reset", {})
    assert status == 200
    assert (await (await client.get("/_mock/webhooks")).json())["data"] == listed


@pytest.mark.parametrize(
    ("entry", "message"),
    [
        ("{url: ftp://x.test/, api: metronome}", "webhooks[0]: url:"),
        ("{url: http://x.test/, api: meteroid, secret: plain}", "webhooks[0]: secret:"),
        ("{url: http://x.test/, api: metronome, colour: red}", "webhooks[0]: colour:"),
    ],
)
def test_a_bad_fixture_endpoint_is_refused_naming_it(entry: str, message: str) -> None:
    with pytest.raises(FixtureError, match=re.escape(message)):
        parse_fixture(f"webhooks:\n  - {entry}\n", "hooks.yaml")
