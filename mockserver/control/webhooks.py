"""`/_mock/webhooks`: endpoints registered and removed as changes of the world, the attempts
made for the world (by every process that serves it), a redelivery on request, and any
documented event sent by hand (as the Stripe CLI's `trigger` does). Refusals are
`{"message": ...}` naming the field."""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable, Iterable
from typing import Any

import orjson
from aiohttp import web

from mockserver.control.shared import Publisher, Recorded, SharedList, StoreError
from mockserver.shell.app import json_response, plain_error
from mockserver.webhooks.delivery import RECORDS, Dispatcher
from mockserver.world.changes import Args, ChangeError
from mockserver.world.endpoints import ID_PATTERN
from mockserver.world.timeline import Timeline

DEFAULT_DELIVERIES = 100


class Deliveries:
    """A served world's webhook deliveries: made by this process's dispatcher, listed for the
    world. With a `shared` list (a world several processes serve), the attempts this process
    made are published there every tick and before it is read, and it is what every process
    lists; else the dispatcher's own are the list."""

    def __init__(self, dispatcher: Dispatcher, shared: SharedList | None = None) -> None:
        self.dispatcher, self.shared = dispatcher, shared
        refused = "webhook deliveries cannot be listed for every process now"
        self._publisher = None if shared is None else Publisher(shared, refused)

    async def publish(self) -> None:
        """Hand the attempts made since the last time to the shared list; kept for the next
        time if it cannot take them."""
        if self._publisher is not None:
            await self._publisher.hand(self._unpublished)

    def _unpublished(self, since: int) -> tuple[int, Recorded]:
        """How many attempts were made, and those made after the first `since`."""
        made = self.dispatcher.made
        attempts = list(self.dispatcher.attempts)[since - made :] if made > since else []
        return made, [(attempt.at, attempt.public()) for attempt in attempts]

    async def take_over(self) -> None:
        await self.dispatcher.take_over()

    def cancel(self) -> None:
        self.dispatcher.cancel()

    async def closed(self) -> None:
        await self.dispatcher.closed()

    async def listing(
        self, endpoint: str | None, event_type: str | None, event_id: str | None, limit: int
    ) -> list[dict[str, Any]]:
        """The attempts, newest first, that fit every filter given; StoreError if the shared
        list cannot be reached."""
        newest: Iterable[dict[str, Any]]
        if self.shared is None:
            newest = (attempt.public() for attempt in reversed(self.dispatcher.attempts))
        else:
            await self.publish()  # published a batch a process at a time: newest first by their time
            newest = sorted(
                reversed(await self.shared.latest()), key=lambda attempt: attempt["at"], reverse=True
            )
        found = []
        for attempt in newest:
            if (
                (endpoint is None or attempt["endpoint"] == endpoint)
                and (event_type is None or attempt["type"] == event_type)
                and (event_id is None or attempt["event_id"] == event_id)
            ):
                attempt.pop("seq", None)  # the shared list's numbering: not the attempt's
                found.append(attempt)
                if len(found) == limit:
                    break
        return found


Reader = Callable[[web.Request], Awaitable[dict[str, Any]]]


class Webhooks:
    """The webhook routes of one served world."""

    def __init__(
        self, timeline: Timeline, deliveries: Deliveries, read: Reader, refused: type[Exception]
    ) -> None:
        """`read` is the control plane's reader of a JSON object body, raising `refused`."""
        self.timeline, self.sending, self.dispatcher = timeline, deliveries, deliveries.dispatcher
        self._read, self._refused = read, refused

    def handlers(self) -> dict[str, Any]:
        """By operation id."""
        return {
            "listWebhooks": self.endpoints,
            "createWebhook": self.create,
            "deleteWebhook": self.delete,
            "listDeliveries": self.deliveries,
            "redeliver": self.redeliver,
            "triggerWebhook": self.trigger,
        }

    async def endpoints(self, request: web.Request) -> web.Response:
        endpoints = self.timeline.world.hooks.endpoints.values()
        return json_response(orjson.dumps({"data": [e.public() for e in endpoints]}))

    async def create(self, request: web.Request) -> web.Response:
        return await self._submit(request, "webhook.create", 201)

    async def delete(self, request: web.Request) -> web.Response:
        return await self._change("webhook.delete", {"id": request.match_info["id"]}, 200)

    async def trigger(self, request: web.Request) -> web.Response:
        return await self._submit(request, "webhook.trigger", 202)

    async def _submit(self, request: web.Request, kind: str, status: int) -> web.Response:
        try:
            args = await self._read(request)
        except self._refused as exc:
            return plain_error(400, str(exc))
        return await self._change(kind, args, status)

    async def _change(self, kind: str, args: Args, status: int) -> web.Response:
        try:
            change, result = await self.timeline.submit(kind, args)
        except ChangeError as exc:
            return plain_error(exc.status(404, 409), str(exc))
        assert change is not None
        if kind == "webhook.trigger":
            (event,) = [e for e in self.timeline.world.hooks.born if e.seq == change.seq]
            result = {
                "event_id": event.id,
                **result,
                "endpoints": [e.id for e in self.dispatcher.targets(event)],
            }
        return json_response(orjson.dumps(result), status)

    async def deliveries(self, request: web.Request) -> web.Response:
        query = request.query
        limit = query.get("limit", str(DEFAULT_DELIVERIES))
        if not limit.isdigit() or not 1 <= int(limit) <= RECORDS:
            return plain_error(400, f"limit: expected an integer from 1 to {RECORDS}, got {limit!r}")
        for name in ("endpoint", "type", "event_id"):
            if query.get(name) == "":
                return plain_error(400, f"{name}: an empty filter matches nothing; leave it out")
        endpoint = query.get("endpoint")
        if endpoint is not None and not re.fullmatch(ID_PATTERN, endpoint):
            return plain_error(400, f"endpoint: expected an endpoint id ({ID_PATTERN})")
        try:
            found = await self.sending.listing(endpoint, query.get("type"), query.get("event_id"), int(limit))
        except StoreError as exc:
            return plain_error(503, str(exc))
        return json_response(orjson.dumps({"data": found}))

    async def redeliver(self, request: web.Request) -> web.Response:
        """`{"event_id", "endpoint"?}`: one of the latest events again, to one endpoint or to
        every endpoint that wants it, from a first attempt."""
        try:
            body = await self._read(request)
        except self._refused as exc:
            return plain_error(400, str(exc))
        unknown = sorted(set(body) - {"event_id", "endpoint"})
        if unknown:
            return plain_error(400, f"{unknown[0]}: unknown field; expected event_id and endpoint")
        for name in ("event_id", "endpoint"):
            if not isinstance(body.get(name, ""), str):
                return plain_error(400, f"{name}: must be a string")
        hooks = self.timeline.world.hooks
        event = hooks.events.get(body.get("event_id", ""))
        if event is None:
            return plain_error(404, f"event_id: no event {body.get('event_id')!r} among the latest")
        to = None
        if "endpoint" in body:
            endpoint = hooks.endpoints.get(body["endpoint"])
            if endpoint is None:
                return plain_error(404, f"endpoint: no endpoint {body['endpoint']!r}")
            if endpoint.api != event.api:
                return plain_error(
                    400, f"endpoint: a {endpoint.api} endpoint, and the event is {event.api}'s"
                )
            to = [endpoint]
        sent = await self.dispatcher.send(event, to)
        return json_response(orjson.dumps({"event_id": event.id, "endpoints": [e.id for e in sent]}), 202)
