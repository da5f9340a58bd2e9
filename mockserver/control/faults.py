"""Scripted faults as one process applies them: which rule answers a request, and how.

The rules are the world's (`World.faults`, changed only through the log), so every worker
holds the same ones, and so are their counters (`times`, `after`, `nth`: a `Tally` every
process serving the world counts in, from the moment the rules last changed); the seeded draws
(`probability`, `jitter_ms`) are kept per process, so a run against one process is the same
run every time. The first rule, in order, whose match
fits and whose counters allow it answers; a request answered by a rule is not seen by the
rules after it.
"""

from __future__ import annotations

import asyncio
import random
from typing import Any

import orjson
from aiohttp import web

from mockserver.control.tally import LocalTally, Tally
from mockserver.shell.app import Facade, plain_error
from mockserver.shell.bearer import bearer_token
from mockserver.world.faults import Rule
from mockserver.world.timeline import Timeline


class RuleState:
    """One rule with its random streams in this process."""

    __slots__ = ("draws", "jitter", "rule")

    def __init__(self, rule: Rule) -> None:
        self.rule = rule
        self.draws = random.Random(rule.seed)
        self.jitter = random.Random(rule.jitter_seed)

    @property
    def effect(self) -> str:
        """What the journal says the rule did: dropped, delayed (then served) or answered."""
        rule = self.rule
        return "dropped" if rule.drop else "delayed" if rule.status is None else "answered"

    def fits(self, request: web.Request, api: str | None, operation: str | None) -> bool:
        rule = self.rule
        if rule.api is not None and rule.api != api:
            return False
        if rule.operation is not None and (
            operation is None or rule.operation not in (operation, operation.partition(".")[2])
        ):
            return False
        if rule.method is not None and rule.method != request.method:
            return False
        if rule.path is not None and not rule.path.match(request.path):
            return False
        if rule.query:
            query = request.query
            if not all(value in query.getall(name, ()) for name, value in rule.query):
                return False
        return rule.token is None or bearer_token(request.headers.get("Authorization", "")) == rule.token

    async def fires(self, tally: Tally, epoch: int, index: int) -> bool:
        """Count a fitting request in the world's tally; whether the rule answers it."""
        rule = self.rule
        counted = await tally.match(epoch, index)
        if counted is None:  # the rules changed meanwhile: this process has yet to read it
            return False
        matched, fired = counted
        past = matched - rule.after
        if past <= 0 or past % rule.nth or (rule.times is not None and fired >= rule.times):
            return False
        if rule.probability is not None and self.draws.random() >= rule.probability:
            return False
        return await tally.fire(epoch, index, rule.times)


class Faults:
    """The rules of a timeline's world, as it is now, counted in `tally` (by default this
    process's own)."""

    def __init__(self, timeline: Timeline, tally: Tally | None = None) -> None:
        self.timeline = timeline
        self.tally: Tally = tally or LocalTally()
        self.rules: list[Rule] = timeline.world.faults
        self.states = [RuleState(rule) for rule in self.rules]

    def current(self) -> list[RuleState]:
        """The states of the world's rules; fresh counters whenever the rules changed."""
        if self.timeline.world.faults is not self.rules:
            self.rules = self.timeline.world.faults
            self.states = [RuleState(rule) for rule in self.rules]
        return self.states

    async def pick(self, request: web.Request, api: str | None, operation: str | None) -> RuleState | None:
        """The rule that answers this request, if any (counted as it is asked)."""
        if not self.timeline.world.faults:
            return None
        epoch = self.timeline.world.faults_since
        for index, state in enumerate(self.current()):
            if state.fits(request, api, operation) and await state.fires(self.tally, epoch, index):
                return state
        return None

    async def answer(
        self, state: RuleState, request: web.Request, facade: Facade | None
    ) -> web.StreamResponse | None:
        """Wait, then the rule's answer; None lets the request through (a delay only). A
        dropped connection is closed unanswered: what aiohttp then writes goes nowhere."""
        rule = state.rule
        delay = rule.delay_ms + (state.jitter.uniform(0, rule.jitter_ms) if rule.jitter_ms else 0)
        if delay:
            await asyncio.sleep(delay / 1000)
        if rule.drop:
            if request.transport is not None:
                request.transport.abort()
            return web.Response(status=499)
        if rule.status is None:
            return None
        if rule.has_body:
            response = web.Response(
                status=rule.status, body=orjson.dumps(rule.body), content_type="application/json"
            )
        elif rule.status >= 400:
            message = f"scripted fault: rule {self.states.index(state)}"
            response = facade.error(rule.status, message) if facade else plain_error(rule.status, message)
        else:
            response = web.Response(status=rule.status)
        response.headers.update(rule.headers)
        return response

    async def listing(self) -> list[dict[str, Any]]:
        """The rules in order, with their counters."""
        states = self.current()
        counts = await self.tally.counts(self.timeline.world.faults_since, len(states))
        return [
            {"id": index, **state.rule.spec, "matched": matched, "fired": fired}
            for index, (state, (matched, fired)) in enumerate(zip(states, counts, strict=True))
        ]
