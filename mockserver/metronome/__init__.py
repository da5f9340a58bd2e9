"""Metronome-style API facade."""

import orjson
from aiohttp import web


class MetronomeFacade:
    name = "metronome"
    prefix = "/v1/"

    def routes(self, world, settings):
        return []

    def error(self, status: int, message: str) -> web.Response:
        return web.Response(
            body=orjson.dumps({"message": message}), status=status, content_type="application/json"
        )

    def unauthorized(self) -> web.Response:
        return self.error(401, "Unauthorized")
