"""What plugs into the shell from the floor above: the facades, the request journal, the fault
rules and webhook deliveries, each as the little the shell asks of it, and the settings they
all read.

The shell serves them without importing them: the server's assembly (`mockserver.server`)
hands it the real ones.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass, replace
from typing import Any, Protocol

from aiohttp import web

from mockserver.world.state import World
from mockserver.world.timeline import Timeline

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
DEFAULT_SIZE = 10_000  # requests the journal keeps
DEFAULT_LIMIT = 128  # worlds kept in memory under isolation


@dataclass(frozen=True)
class Settings:
    """What the command line may override on top of the fixture."""

    tokens: frozenset[str] = frozenset()
    dialect: str = "documented"
    default_sort: str = "date_asc"
    journal_size: int = DEFAULT_SIZE  # requests the journal keeps; 0: none recorded
    isolation: str | None = None  # "token": a world per bearer token
    worlds: int = DEFAULT_LIMIT  # under isolation, the worlds kept in memory
    control_token: str | None = None  # what every /_mock write must carry (CONTROL_HEADER)

    @classmethod
    def from_world(cls, world: World, **given: object) -> Settings:
        """The fixture's settings, with what the command line gave (None: not given)."""
        fixture = world.fixture
        settings = cls(
            frozenset(fixture.tokens),
            fixture.dialect,
            fixture.default_sort,
            isolation=fixture.isolation,
            control_token=fixture.control_token,
        )
        return replace(settings, **{name: value for name, value in given.items() if value is not None})


class Facade(Protocol):
    """One emulated API: a URL prefix, its routes, and the error body that API would send.

    Its routes read `timeline.world` and submit the API's writes to the timeline as changes."""

    name: str
    prefix: str

    def routes(self, timeline: Timeline, settings: Settings) -> Iterable[web.RouteDef]: ...

    def openapi(self, settings: Settings) -> dict:
        """The OpenAPI document of the routes it serves with these settings."""
        ...

    def error(self, status: int, message: str) -> web.Response: ...

    def unauthorized(self) -> web.Response: ...

    def rejection(self, exc: Exception) -> web.Response | None:
        """The API's answer to an exception its routes raise to refuse a request; None for
        any other exception, which is a bug."""
        ...


class Journal(Protocol):
    """The requests a served world answered (`control.journal.Journal`)."""

    def record(
        self,
        request: web.BaseRequest,
        api: str | None,
        operation: str | None,
        response: web.StreamResponse,
        started: float,
        fault: str | None,
    ) -> None: ...

    async def publish(self) -> None:
        """Hand what this process recorded to the store it shares, if it has one."""
        ...


class Faults(Protocol):
    """A served world's fault rules and their counters (`control.faults.Faults`)."""

    async def pick(self, request: web.Request, api: str | None, operation: str | None) -> Any:
        """The rule that answers this request, if any (counted as it is asked)."""
        ...

    async def answer(
        self, state: Any, request: web.Request, facade: Facade | None
    ) -> web.StreamResponse | None:
        """Wait, then the rule's answer; None lets the request through (a delay only)."""
        ...


class Deliveries(Protocol):
    """A served world's webhook deliveries (`control.webhooks.Deliveries`)."""

    async def publish(self) -> None:
        """Hand the attempts this process made to the list it shares, if it has one."""
        ...

    async def take_over(self) -> None:
        """Start the deliveries another process of the world left (it died)."""
        ...

    def cancel(self) -> None:
        """Stop every delivery under way."""
        ...
