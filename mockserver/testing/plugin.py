"""The pytest plugin (entry point `pytest11`): a real mockserver per session, a fresh world per test.

    def test_retries(mockserver):
        mockserver.add_faults({"match": {"path": "/v1/**"}, "respond": {"status": 429}, "times": 1})
        client = mockserver.metronome()
        ...
        assert [r["status"] for r in mockserver.requests()] == [429, 200]

The server is started once per distinct set of options (ini `mockserver_fixture`,
`mockserver_dialect`, `mockserver_isolation`, `mockserver_control_token`, `mockserver_args`,
overridden by a test's or module's `@pytest.mark.mockserver(fixture=..., dialect=...,
isolation=..., control_token=..., args=[...])`) and stopped at the end of the session. A
control token (given so, or as `--control-token` among the args) locks the server's control
plane, and every control call sends it. Each test gets a fresh world: with `isolation="token"` a
token of its own, so a world of its own that no other test (nor another process sharing the
server) can touch; otherwise the one world is reset (clock, changes and the fixture's own fault
rules, with fresh counters) and the journal emptied. `mockserver_webhooks` adds a local
receiver of both APIs' webhooks (`mockserver.testing.webhooks`). The official SDKs are
imported only when asked for, so the plugin works without them. HTTP goes through the standard
library: no dependency.
"""

from __future__ import annotations

import contextlib
import json
import urllib.error
import urllib.parse
import urllib.request
import uuid
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

import pytest

from mockserver.testing.server import running_server
from mockserver.testing.webhooks import Receiver

TOKEN = "mockserver-test-token"
CONTROL_HEADER = "Mock-Control-Token"  # what unlocks the control plane of a locked server


class MockServerError(Exception):
    """A control-plane request the server refused; the message is the server's."""


CONTROL = "/_mock/"
JSON_LINES = "application/x-ndjson"


def control_path(path: str) -> str:
    """`/_mock/` and the route, whether the caller wrote the prefix (`/_mock/requests`,
    `_mock/requests`) or not (`requests`, `/requests`)."""
    route = path.lstrip("/")
    return CONTROL + route.removeprefix(CONTROL.lstrip("/"))


def _decoded(media_type: str, body: bytes) -> Any:
    """JSON lines as a list of their objects, anything else as one JSON document."""
    if media_type == JSON_LINES:
        return [json.loads(line) for line in body.splitlines() if line.strip()]
    return json.loads(body)


@dataclass
class MockServer:
    """One test's handle on the server: its URL, ready-made SDK clients, the journal, the fault
    rules and the clock."""

    base_url: str
    token: str = TOKEN
    control_token: str | None = None  # sent with every control call, for a locked server
    _clients: list[Any] = field(default_factory=list)

    def control(
        self, method: str, path: str, body: Any = None, query: Mapping[str, Any] | None = None
    ) -> Any:
        """A control-plane call answered with its JSON (a list of objects for JSON lines, such as
        `changes`); MockServerError if refused. `path` may name the route alone (`requests`) or
        whole (`/_mock/requests`): both read alike in a test."""
        path = control_path(path)
        url = f"{self.base_url}{path}"
        filters = {name: value for name, value in (query or {}).items() if value is not None}
        if filters:
            url += "?" + urllib.parse.urlencode(filters)
        data = None if body is None else json.dumps(body).encode()
        request = urllib.request.Request(url, data=data, method=method)
        request.add_header("Authorization", f"Bearer {self.token}")  # under isolation: its world
        if self.control_token is not None:
            request.add_header(CONTROL_HEADER, self.control_token)
        if data is not None:
            request.add_header("Content-Type", "application/json")
        try:
            with urllib.request.urlopen(request, timeout=30) as response:
                return _decoded(response.headers.get_content_type(), response.read())
        except urllib.error.HTTPError as exc:
            raise MockServerError(f"{method} {path}: {exc.code} {exc.read().decode()}") from None

    # the world

    def reset(self) -> dict[str, Any]:
        return self.control("POST", "reset")

    def now(self) -> str:
        """The world's clock (RFC 3339)."""
        return self.control("GET", "clock")["now"]

    def advance(self, duration: str) -> dict[str, Any]:
        """Move the clock by an ISO 8601 duration (`P1M`); what the billing lifecycle did."""
        return self.control("POST", "clock", {"advance": duration})

    # the journal

    def requests(self, **filters: Any) -> list[dict[str, Any]]:
        """The journal's latest entries (filters: api, operation, method, path, status, since, limit)."""
        return self.control("GET", "requests", query=filters)["requests"]

    def clear_requests(self) -> int:
        return self.control("DELETE", "requests")["cleared"]

    # faults

    def add_faults(self, rules: dict[str, Any] | list[dict[str, Any]]) -> dict[str, Any]:
        """Add a rule or a list of rules (see docs/faults-and-journal.md); the server refuses a bad one."""
        return self.control("POST", "faults", rules)

    def faults(self) -> list[dict[str, Any]]:
        return self.control("GET", "faults")["rules"]

    def clear_faults(self) -> dict[str, Any]:
        return self.control("DELETE", "faults")

    # webhooks

    def add_webhook(self, url: str, api: str, **options: Any) -> dict[str, Any]:
        """Register an endpoint (options: secret, types, retry_scale, timeout_ms) until it is
        removed or the world reset."""
        return self.control("POST", "webhooks", {"url": url, "api": api, **options})

    def remove_webhook(self, endpoint_id: str) -> None:
        self.control("DELETE", f"webhooks/{endpoint_id}")

    def deliveries(self, **filters: Any) -> list[dict[str, Any]]:
        """The delivery attempts, newest first (filters: endpoint, type, event_id, limit)."""
        return self.control("GET", "webhooks/deliveries", query=filters)["data"]

    # the official SDKs, imported only here

    def metronome(self, **options: Any) -> Any:
        """A `metronome.Metronome` client on this server (needs `metronome-sdk`)."""
        from metronome import Metronome

        return self._keep(Metronome(bearer_token=self.token, base_url=self.base_url, **options))

    def meteroid(self, **options: Any) -> Any:
        """A `meteroid.Meteroid` client on this server (needs `meteroid`)."""
        from meteroid import Meteroid

        return self._keep(Meteroid(api_key=self.token, base_url=self.base_url, **options))

    def _keep(self, client: Any) -> Any:
        self._clients.append(client)
        return client

    def close(self) -> None:
        """Close the clients handed out (their connection pools)."""
        for client in self._clients:
            with contextlib.suppress(Exception):
                client.close()
        self._clients.clear()


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addini("mockserver_fixture", "fixture file mockserver serves (default: its default world)")
    parser.addini("mockserver_dialect", "the Meteroid spelling of requests that choose none")
    parser.addini("mockserver_isolation", "token: a world of its own per test, on one server; none (default)")
    parser.addini(
        "mockserver_control_token",
        "lock the server's control plane with this token (--control-token); control calls send it",
    )
    parser.addini("mockserver_args", "more `mockserver serve` arguments", type="args", default=[])


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers",
        "mockserver(fixture=None, dialect=None, isolation=None, control_token=None, args=()): "
        "the server this test's `mockserver` uses",
    )


class _Servers:
    """The session's servers, one per distinct set of options, started when first needed."""

    def __init__(self) -> None:
        self.stack = contextlib.ExitStack()
        self.started: dict[tuple[str | None, tuple[str, ...]], str] = {}

    def base_url(self, fixture: str | None, args: tuple[str, ...]) -> str:
        key = (fixture, args)
        if key not in self.started:
            self.started[key] = self.stack.enter_context(running_server(fixture, args))
        return self.started[key]


@pytest.fixture(scope="session")
def mockserver_servers() -> Iterator[_Servers]:
    """Every server the session started; all stopped at its end."""
    servers = _Servers()
    with servers.stack:
        yield servers


@pytest.fixture
def mockserver(request: pytest.FixtureRequest, mockserver_servers: _Servers) -> Iterator[MockServer]:
    """This test's server, with a fresh world: a token of its own under isolation, else the
    world reset and the journal emptied."""
    config = request.config
    marker = request.node.get_closest_marker("mockserver")
    options = marker.kwargs if marker is not None else {}
    fixture = options.get("fixture", config.getini("mockserver_fixture") or None)
    dialect = options.get("dialect", config.getini("mockserver_dialect") or None)
    isolation = options.get("isolation", config.getini("mockserver_isolation") or "none")
    args = tuple(options.get("args", config.getini("mockserver_args")))
    control_token = _given_control_token(args)
    if control_token is None:
        control_token = options.get("control_token", config.getini("mockserver_control_token") or None)
        if control_token is not None:
            args += ("--control-token", control_token)
    if dialect:
        args += ("--dialect", dialect)
    if isolation != "none":
        args += ("--isolate", isolation)
    if fixture is not None:
        fixture = str(config.rootpath / fixture)
    base_url = mockserver_servers.base_url(fixture, args)
    if isolation == "token":
        server = MockServer(base_url, f"mockserver-test-{uuid.uuid4().hex}", control_token)
    else:
        server = MockServer(base_url, control_token=control_token)
        server.reset()
        server.clear_requests()
    yield server
    server.close()


def _given_control_token(args: tuple[str, ...]) -> str | None:
    """The token `--control-token` names among a server's arguments, if it does."""
    for index, arg in enumerate(args):
        if arg == "--control-token" and index + 1 < len(args):
            return args[index + 1]
        if arg.startswith("--control-token="):
            return arg.partition("=")[2]
    return None


RETRY_SCALE = 0.001  # a provider's retry delays in milliseconds: a test waits seconds at most


@pytest.fixture
def mockserver_webhooks(mockserver: MockServer) -> Iterator[Receiver]:
    """A local receiver registered for both APIs' events of this test's world; it verifies
    each signature (refusing, with a 400, one that fails) and offers `wait_for(type, timeout)`."""
    receiver = Receiver()
    endpoints = []
    try:
        for api in ("metronome", "meteroid"):
            made = mockserver.add_webhook(f"{receiver.url}/{api}", api, retry_scale=RETRY_SCALE)
            receiver.secrets[api] = made["secret"]
            endpoints.append(made["id"])
        yield receiver
    finally:
        for endpoint in endpoints:
            with contextlib.suppress(MockServerError):
                mockserver.remove_webhook(endpoint)
        receiver.close()
