"""The shell around the facades: open routes, bearer auth, CORS, and errors in each API's own shape."""

from __future__ import annotations

import orjson
import pytest
from aiohttp import web

from mockserver.shell.app import Settings, create_app, json_headers, json_response
from mockserver.shell.worlds import Worlds
from mockserver.world.state import World


class EchoFacade:
    """A stand-in API: proves the shell's behaviour without depending on a real facade."""

    name = "echo"
    prefix = "/echo/"

    def routes(self, timeline, settings):
        async def ok(request: web.Request) -> web.Response:
            return json_response(b'{"ok":true}')

        async def boom(request: web.Request) -> web.Response:
            raise RuntimeError("secret internals")

        async def refuse(request: web.Request) -> web.Response:
            raise LookupError("no such echo")

        return [
            web.get("/echo/ok", ok, name="echo.ok"),
            web.get("/echo/boom", boom, name="echo.boom"),
            web.get("/echo/refuse", refuse, name="echo.refuse"),
        ]

    def error(self, status: int, message: str) -> web.Response:
        return json_response(orjson.dumps({"echo_error": message}), status)

    def unauthorized(self) -> web.Response:
        return self.error(401, "who are you")

    def rejection(self, exc: Exception) -> web.Response | None:
        return self.error(418, str(exc)) if isinstance(exc, LookupError) else None


async def ping(request: web.Request) -> web.Response:
    return json_response(b'{"pong":true}')


OPEN = [web.get("/open/ping", ping, name="control.ping")]


@pytest.fixture
async def client(aiohttp_client, default_world: World):
    return await aiohttp_client(create_app(Worlds.one(default_world, [EchoFacade()], Settings(), OPEN)))


@pytest.fixture
async def locked_client(aiohttp_client, default_world: World):
    settings = Settings(tokens=frozenset({"sesame"}))
    return await aiohttp_client(create_app(Worlds.one(default_world, [EchoFacade()], settings)))


AUTH = {"Authorization": "Bearer anything"}


async def test_open_routes_need_no_token(client) -> None:
    response = await client.get("/open/ping")
    assert response.status == 200 and await response.json() == {"pong": True}


def test_a_facades_own_json_headers_keep_the_shared_ones() -> None:
    response = json_response(b"{}", headers=json_headers(("Vary", "X-Spelling")))
    assert response.headers["Vary"] == "X-Spelling"
    assert response.headers["Content-Type"] == "application/json"
    assert response.headers["Access-Control-Allow-Origin"] == "*"


@pytest.mark.parametrize("header", [None, "", "Bearer", "Bearer   ", "Basic abc", "Token abc"])
async def test_api_routes_need_a_bearer_token(client, header) -> None:
    headers = {} if header is None else {"Authorization": header}
    response = await client.get("/echo/ok", headers=headers)
    assert response.status == 401
    assert await response.json() == {"echo_error": "who are you"}


async def test_any_non_empty_token_is_accepted_by_default(client) -> None:
    response = await client.get("/echo/ok", headers={"Authorization": "bearer abc"})
    assert response.status == 200


async def test_a_fixture_can_restrict_the_accepted_tokens(locked_client) -> None:
    assert (await locked_client.get("/echo/ok", headers=AUTH)).status == 401
    assert (await locked_client.get("/echo/ok", headers={"Authorization": "Bearer sesame"})).status == 200


async def test_unknown_route_under_a_facade_gets_its_error_shape(client) -> None:
    response = await client.get("/echo/nothing-here", headers=AUTH)
    assert response.status == 404
    assert "echo_error" in await response.json()


async def test_wrong_method_gets_405_in_the_facade_shape(client) -> None:
    response = await client.post("/echo/ok", headers=AUTH)
    assert response.status == 405
    assert "echo_error" in await response.json()
    assert response.headers["Allow"] == "GET,HEAD"
    assert response.headers["Access-Control-Allow-Origin"] == "*"


async def test_unknown_route_under_a_facade_still_needs_a_token(client) -> None:
    response = await client.get("/echo/nothing-here")
    assert response.status == 401
    assert await response.json() == {"echo_error": "who are you"}


@pytest.mark.parametrize("method", ["GET", "DELETE"])
async def test_outside_every_facade_errors_are_plain_json(client, method) -> None:
    response = await client.request(method, "/nowhere/at/all")
    assert response.status == 404
    assert (await response.json())["message"] == f"Not Found: {method} /nowhere/at/all"
    assert response.headers["Access-Control-Allow-Origin"] == "*"


async def test_an_open_route_takes_only_its_methods(client) -> None:
    response = await client.post("/open/ping")
    assert response.status == 405
    assert (await response.json())["message"].startswith("Method Not Allowed")


async def test_a_crash_becomes_a_500_without_a_traceback(client) -> None:
    response = await client.get("/echo/boom", headers=AUTH)
    assert response.status == 500
    text = await response.text()
    assert "secret internals" not in text and "Traceback" not in text
    assert orjson.loads(text) == {"echo_error": "internal error"}


async def test_a_refusal_raised_by_a_route_gets_the_facade_answer(client) -> None:
    response = await client.get("/echo/refuse", headers=AUTH)
    assert response.status == 418
    assert orjson.loads(await response.text()) == {"echo_error": "no such echo"}
    assert response.headers["Access-Control-Allow-Origin"] == "*"


async def test_cors_preflight_allows_the_authorization_header(client) -> None:
    response = await client.options(
        "/echo/ok",
        headers={
            "Origin": "http://localhost:3000",
            "Access-Control-Request-Method": "GET",
            "Access-Control-Request-Headers": "authorization",
        },
    )
    assert response.status == 204
    assert response.headers["Access-Control-Allow-Origin"] == "*"
    assert "authorization" in response.headers["Access-Control-Allow-Headers"].lower()
    assert "GET" in response.headers["Access-Control-Allow-Methods"]


@pytest.mark.parametrize("path", ["/echo/nothing-here", "/nowhere", "/open/ping"])
async def test_cors_preflight_is_answered_on_any_path(client, path) -> None:
    headers = {"Origin": "http://localhost:3000", "Access-Control-Request-Method": "GET"}
    response = await client.options(path, headers=headers)
    assert response.status == 204
    assert response.headers["Access-Control-Allow-Origin"] == "*"


async def test_every_response_carries_cors_headers_even_errors(client) -> None:
    for path, headers in (("/echo/ok", AUTH), ("/echo/ok", {}), ("/echo/boom", AUTH), ("/echo/refuse", AUTH)):
        response = await client.get(path, headers=headers)
        assert response.headers["Access-Control-Allow-Origin"] == "*"


async def test_a_browser_app_on_another_origin_may_read_the_retry_and_dialect_headers(client) -> None:
    response = await client.get("/nowhere", headers={"Origin": "http://localhost:3000"})
    exposed = {name.strip().lower() for name in response.headers["Access-Control-Expose-Headers"].split(",")}
    assert {"retry-after", "retry-after-ms", "meteroid-dialect", "*"} <= exposed


@pytest.mark.parametrize("path", ["/echo/%0A%7B", "/%0A", "/echo/a%0Ab/c"])
async def test_paths_with_any_character_get_json_errors(client, path) -> None:
    response = await client.get(path, headers=AUTH)
    assert response.status == 404 and response.content_type == "application/json"
