"""Metronome-style API facade: customers and their invoices, as the official SDK expects them.

Laid out side by side: `params` (query parsing), `catalog` (enum spelling), `render` (wire
format, pre-encoded), `errors` (the API's error shape), `openapi` (the route table and the
document describing it) and `routes` (handlers).
"""

from __future__ import annotations

from aiohttp import web

from mockserver.metronome import openapi
from mockserver.metronome.errors import error_response, rejection
from mockserver.metronome.routes import MetronomeApi
from mockserver.shell.app import Settings
from mockserver.world.timeline import Timeline


class MetronomeFacade:
    name = "metronome"
    prefix = "/v1/"

    def routes(self, timeline: Timeline, settings: Settings) -> list[web.RouteDef]:
        return MetronomeApi(timeline, settings).routes()

    def openapi(self, settings: Settings) -> dict:
        return openapi.document(settings.default_sort)

    def error(self, status: int, message: str) -> web.Response:
        return error_response(status, message)

    def unauthorized(self) -> web.Response:
        return self.error(401, "Unauthorized: send an Authorization: Bearer <token> header")

    def rejection(self, exc: Exception) -> web.Response | None:
        return rejection(exc)
