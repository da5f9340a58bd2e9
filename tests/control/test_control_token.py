"""A shared server's control plane locked with a token: every /_mock write needs the
Mock-Control-Token header, reads and the emulated APIs do not, and the bearer token still
picks the caller's world."""

from __future__ import annotations

import pytest

from mockserver.control import openapi as control_openapi
from mockserver.generation.fixture import load_fixture
from mockserver.server import build_app
from mockserver.shell.app import Settings
from mockserver.world.spec import FixtureError
from mockserver.world.state import World

JSON = {"Content-Type": "application/json"}
UNLOCKED = {**JSON, "Mock-Control-Token": "s3cret"}


def world() -> World:
    return World.from_fixture(load_fixture(None))


@pytest.mark.parametrize("isolation", [None, "token"])
async def test_control_writes_need_the_token_and_nothing_else_does(aiohttp_client, isolation) -> None:
    settings = Settings(control_token="s3cret", isolation=isolation)
    client = await aiohttp_client(build_app(world(), settings), headers={"Authorization": "Bearer ci"})
    for headers in (JSON, {**JSON, "Mock-Control-Token": "guess"}):
        refused = await client.post("/_mock/clock", json={"advance": "P1D"}, headers=headers)
        assert refused.status == 401
        assert "Mock-Control-Token" in (await refused.json())["message"]
    assert (await client.delete("/_mock/requests")).status == 401
    assert (await client.post("/_mock/reset", headers=UNLOCKED)).status == 200
    moved = await client.post("/_mock/clock", json={"advance": "P1D"}, headers=UNLOCKED)
    assert moved.status == 200 and (await moved.json())["seq"] == 2  # the reset was the first
    assert (await client.get("/_mock/health")).status == 200
    assert (await (await client.get("/_mock/clock")).json())["seq"] == 2
    assert (await client.get("/api/v1/invoices")).status == 200


async def test_the_fixture_can_lock_the_control_plane(aiohttp_client, tmp_path) -> None:
    path = tmp_path / "locked.yaml"
    path.write_text("name: locked\nauth:\n  control_token: s3cret\n")
    locked = World.from_fixture(load_fixture(str(path)))
    client = await aiohttp_client(build_app(locked, Settings.from_world(locked)))
    assert (await client.post("/_mock/reset")).status == 401
    assert (await client.post("/_mock/reset", headers=UNLOCKED)).status == 200
    path.write_text("name: locked\nauth:\n  control_token: [s3cret]\n")
    with pytest.raises(FixtureError, match=r"auth\.control_token"):
        load_fixture(str(path))


async def test_the_document_lists_the_refusal_of_every_write_and_names_the_header(aiohttp_client) -> None:
    """Every write the control document lists is refused 401 on a locked server, as it says, in
    the control plane's error shape; reads are not; its header is the document's scheme's."""
    doc = control_openapi.document()
    (scheme,) = doc["components"]["securitySchemes"].values()
    assert (scheme["in"], scheme["name"]) == ("header", "Mock-Control-Token")
    client = await aiohttp_client(build_app(world(), Settings(control_token="s3cret")))
    writes = 0
    for path, methods in doc["paths"].items():
        for method, spec in methods.items():
            concrete = path.replace("{id}", "wh_1").replace("{api}", "control").replace("{name}", "x")
            answered = await client.request(method.upper(), concrete, json={}, headers=JSON)
            if method == "get":
                assert answered.status != 401 and "401" not in spec["responses"]
                continue
            writes += 1
            assert answered.status == 401 and {"401", "503"} <= set(spec["responses"])
            assert list(await answered.json()) == ["message"]
            assert {} in spec["security"] and {"controlToken": []} in spec["security"]
    assert writes >= 9
