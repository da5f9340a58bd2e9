"""Meteroid-style API facade: invoices and customers under `/api/v1/`, in both dialects at once.

Laid out one concern per module: `params` (query strings), `view` (id lookups, orderings,
cached bytes), `render` (JSON documents), `dialect` (enum and datetime spelling), `errors`,
`openapi` (the route table and the document describing it) and `routes`.
"""

from __future__ import annotations

from aiohttp import web

from mockserver.meteroid import openapi
from mockserver.meteroid.errors import UNAUTHORIZED_BODY, json_error, rejection
from mockserver.meteroid.routes import build_routes
from mockserver.shell.app import Settings
from mockserver.world.timeline import Timeline


class MeteroidFacade:
    name = "meteroid"
    prefix = "/api/"

    def routes(self, timeline: Timeline, settings: Settings) -> list[web.RouteDef]:
        return build_routes(timeline, settings.dialect)

    def openapi(self, settings: Settings) -> dict:
        return openapi.document(settings.dialect)

    def error(self, status: int, message: str) -> web.Response:
        return json_error(status, message)

    def unauthorized(self) -> web.Response:
        return web.Response(body=UNAUTHORIZED_BODY, status=401, content_type="application/json")

    def rejection(self, exc: Exception) -> web.Response | None:
        return rejection(exc)
