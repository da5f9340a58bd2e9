"""The control plane's OpenAPI 3.1 document: the server's own routes under `/_mock` (and `/`).

`OPERATIONS` is the control plane's route table: `ControlPlane.routes` serves exactly these, in
this order. To add a route, add its `Operation` here and its handler in `ControlPlane.routes`
under the same id. No token is needed, but a locked server's writes need its control token
(`Mock-Control-Token`); errors are `{"message": ...}`.
"""

from __future__ import annotations

import copy
from dataclasses import replace

from mockserver.control import fixture
from mockserver.control.journal import DEFAULT_LIMIT, MAX_INTEGER
from mockserver.generation.schema import fixture_schema
from mockserver.inspector import ASSETS
from mockserver.shell.openapi import (
    BOOLEAN,
    INTEGER,
    NUMBER,
    OBJECT,
    STRING,
    STRING_MAP,
    Operation,
    Param,
    Reply,
    Schema,
    array,
    closed,
    enum,
    json_reply,
    nullable,
    ref,
)
from mockserver.shell.openapi import document as build_document
from mockserver.world.clock import DOCUMENTED_DURATION, HORIZON_YEARS
from mockserver.world.endpoints import (
    ALERT_TYPE,
    ID_PATTERN,
    MAX_ENDPOINTS,
    METEROID_SECRET,
    METEROID_TYPES,
    METRONOME_TYPES,
    TIMEOUT_MS,
    TYPE_PATTERN,
    URL_PATTERN,
)
from mockserver.world.endpoints import APIS as WEBHOOK_APIS
from mockserver.world.faults import MAX_DELAY_MS, catalog, methods_of
from mockserver.world.glob import GLOB_PATTERN
from mockserver.world.lifecycle import COUNTS
from mockserver.world.spec import DIALECTS, ISOLATIONS, STATUSES

APIS = ("metronome", "meteroid", "control")  # the documents served, by name
INSPECTOR = "/_mock/"
DATETIME: Schema = {
    "type": "string",
    "format": "date-time",
    "pattern": r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$",
}
SEQ: Schema = {"type": "integer", "minimum": 0, "description": "Changes applied since the fixture's world."}
COUNT: Schema = {"type": "integer", "minimum": 0}


def _spellings(api: str | None = None) -> list[str]:
    """The operations a rule may name (of `api`, or of any), each with and without its API."""
    names = {name for known, ops in catalog().items() if api in (None, known) for name in ops}
    return sorted({spelling for name in names for spelling in (name, name.partition(".")[2])})


def _methods(api: str | None = None, operation: str | None = None) -> list[str]:
    """The methods a rule may name (with `api`, `operation`, or any)."""
    return methods_of(
        method
        for known, ops in catalog().items()
        if api in (None, known)
        for name, method in ops.items()
        if operation in (None, name, name.partition(".")[2])
    )


def _given(values: dict[str, str | None]) -> Schema:
    """A condition: these keys given with these values (None: not asked)."""
    given = {key: value for key, value in values.items() if value is not None}
    return {"properties": {key: {"const": value} for key, value in given.items()}, "required": list(given)}


PATH_GLOB: Schema = {
    **STRING,
    "pattern": GLOB_PATTERN,
    "description": "A glob: `*` one segment, `**` any, `?`, `[...]`.",
}
TEXT: Schema = {**STRING, "minLength": 1}

# What a fault rule may say beside `respond`: written once, listed and sent alike.
RULE_OPTIONAL: dict[str, Schema] = {
    "match": closed(
        {},
        {
            "api": enum(list(catalog())),
            "operation": enum(_spellings(), description="`metronome.listInvoices` or `listInvoices`."),
            "method": enum(_methods()),
            "path": PATH_GLOB,
            "query": {**STRING_MAP, "description": "Parameters the request must carry, a subset."},
            "token": TEXT,
        },
        allOf=[  # with an `api`, an operation and a method of that API; with an operation, its method
            *(
                {
                    "if": _given({"api": api}),
                    "then": {
                        "properties": {"operation": enum(_spellings(api)), "method": enum(_methods(api))}
                    },
                }
                for api in catalog()
            ),
            *(
                {
                    "if": _given({"api": api, "operation": name}),
                    "then": {"properties": {"method": enum(_methods(api, name))}},
                }
                for api in (None, *catalog())
                for name in _spellings(api)
            ),
        ],
    ),
    "times": {**INTEGER, "minimum": 1, "description": "Answer this many requests, then no more."},
    "after": {**INTEGER, "minimum": 0, "description": "Let this many fitting requests through first."},
    "nth": {**INTEGER, "minimum": 1, "description": "Answer every nth fitting request."},
    "probability": {**NUMBER, "minimum": 0, "maximum": 1},
    "seed": {**INTEGER, "minimum": 0, "description": "Seeds the probability's draws."},
}

EVENT_TYPE: Schema = {
    **STRING,
    "description": f"Metronome: {', '.join(METRONOME_TYPES)} or alerts.<alert type>; "
    f"Meteroid: {', '.join(METEROID_TYPES)}.",
    "pattern": TYPE_PATTERN,
}
ENDPOINT_ID: Schema = {**STRING, "pattern": ID_PATTERN}
# The types each API documents (Metronome's alerts by their pattern).
API_TYPES: dict[str, Schema] = {
    "metronome": {"anyOf": [enum(METRONOME_TYPES), {**STRING, "pattern": ALERT_TYPE.pattern}]},
    "meteroid": enum(METEROID_TYPES),
}


def for_each_api(rules: dict[str, Schema]) -> list[Schema]:
    """`if` the body's api is this one, `then` its fields follow these rules: an endpoint's or a
    trigger's types are that API's own, a Meteroid secret a Standard Webhooks one."""
    return [
        {"if": {"properties": {"api": {"const": api}}, "required": ["api"]}, "then": {"properties": then}}
        for api, then in rules.items()
    ]


ENDPOINT_OPTIONAL: dict[str, Schema] = {
    # null, as a key left out, is the default
    "secret": nullable(
        {
            **STRING,
            "minLength": 1,
            "maxLength": 256,
            "description": "Metronome: any string. Meteroid: whsec_ and base64 of 24 to 64 bytes. "
            "Default: one made from the seed.",
        }
    ),
    "types": nullable(array(EVENT_TYPE, minItems=1, description="Default (null): every type.")),
    "retry_scale": nullable(
        {
            **NUMBER,
            "minimum": 0,
            "maximum": 1,
            "default": 1,
            "description": "The provider's retry delays are multiplied by it (tests want seconds, not days).",
        }
    ),
    "timeout_ms": nullable({**INTEGER, "minimum": 1, "maximum": 60_000, "default": TIMEOUT_MS}),
}
WEBHOOK_SCHEMAS: dict[str, Schema] = {
    "WebhookEndpointNew": {
        **closed(
            {"url": {**STRING, "maxLength": 2048, "pattern": URL_PATTERN}, "api": enum(WEBHOOK_APIS)},
            {"id": nullable(ENDPOINT_ID), **ENDPOINT_OPTIONAL},
        ),
        "allOf": for_each_api(
            {
                "metronome": {"types": {"items": API_TYPES["metronome"]}},
                "meteroid": {
                    "types": {"items": API_TYPES["meteroid"]},
                    "secret": {"pattern": METEROID_SECRET},
                },
            }
        ),
    },
    "WebhookEndpoint": closed(
        {
            "id": ENDPOINT_ID,
            "url": STRING,
            "api": enum(WEBHOOK_APIS),
            **ENDPOINT_OPTIONAL,
            "secret": {**STRING, "description": "What signs its deliveries."},
        }
    ),
    "WebhookEndpoints": closed({"data": array(ref("WebhookEndpoint"), maxItems=MAX_ENDPOINTS)}),
    "WebhookDeleted": closed({"deleted": ENDPOINT_ID}),
    "Delivery": closed(
        {
            "event_id": STRING,
            "type": STRING,
            "endpoint": ENDPOINT_ID,
            "attempt": {**INTEGER, "minimum": 1, "description": "1 is the first."},
            "response_status": nullable({**INTEGER, "description": "None: no answer came."}),
            "error": nullable({**STRING, "description": "Why no answer came."}),
            "duration_ms": NUMBER,
            "at": {"type": "string", "format": "date-time", "description": "Wall clock."},
            "next_attempt_at": nullable(
                {"type": "string", "format": "date-time", "description": "None: no retry follows."}
            ),
            "pid": {**INTEGER, "minimum": 1, "description": "The server process that made it."},
        }
    ),
    "Deliveries": closed({"data": array(ref("Delivery"), description="Newest first.")}),
    "Redeliver": closed(
        {"event_id": STRING},
        {"endpoint": {**ENDPOINT_ID, "description": "Default: every endpoint that wants it."}},
    ),
    "Trigger": {
        **closed(
            {"api": enum(WEBHOOK_APIS), "type": EVENT_TYPE},
            {"payload": {**OBJECT, "description": "Metronome: the properties; Meteroid: the fields."}},
        ),
        "allOf": for_each_api({api: {"type": types} for api, types in API_TYPES.items()}),
    },
    "Sent": closed(
        {"event_id": STRING, "endpoints": array(ENDPOINT_ID, description="Sent to these.")},
        {"api": enum(WEBHOOK_APIS), "type": STRING},
    ),
}

FIXTURE: Schema = {key: value for key, value in fixture_schema().items() if key not in ("$schema", "title")}


def _fixture_put() -> Schema:
    """A fixture as a running server takes it: the bounds of `fixture` that a schema can state
    (the customers); the invoices, a product, are in the operation's description."""
    schema = copy.deepcopy(FIXTURE)
    properties = schema["properties"]
    properties["generate"]["properties"]["customers"]["maximum"] = fixture.MAX_CUSTOMERS
    properties["customers"]["maxItems"] = fixture.MAX_CUSTOMERS
    return schema


SCHEMAS: dict[str, Schema] = {
    "Health": closed(
        {
            "status": {
                **enum(["ok", "degraded"]),
                "description": "degraded: the log of changes cannot be reached; the last state seen "
                "is served and writes are refused with 503.",
            },
            "fixture": STRING,
            "seed": INTEGER,
            "now": DATETIME,
            "seq": SEQ,
            "pid": {**INTEGER, "minimum": 1, "description": "The server process that answered."},
            "dialect": {
                **enum(DIALECTS),
                "description": "The Meteroid spelling of requests that choose none.",
            },
            "dialects": array(enum(DIALECTS), description="Every Meteroid spelling served."),
            "isolation": {
                **enum(ISOLATIONS),
                "description": "token: every answer of the server, this one included, is about the world "
                "of the request's bearer token (none: the one world).",
            },
            "counts": closed(
                {
                    "customers": COUNT,
                    "contracts": COUNT,
                    "invoices": COUNT,
                    "invoices_by_status": closed(dict.fromkeys(STATUSES, COUNT)),
                    "usage_kept": {
                        **COUNT,
                        "description": "Metronome usage events kept for ids or aliases no customer has yet.",
                    },
                }
            ),
        },
        {"log": closed({"reachable": {"type": "boolean"}, "error": STRING})},
    ),
    "Clock": closed({"now": DATETIME, "seq": SEQ}),
    "ClockMove": {
        "oneOf": [
            closed(
                {
                    "advance": {
                        "type": "string",
                        "pattern": DOCUMENTED_DURATION,
                        "examples": ["P1M", "P7D", "PT1H"],
                    }
                },
                description="Move forward by an ISO 8601 duration (months are calendar months).",
            ),
            closed(
                {"to": {"type": "string", "format": "date-time"}}, description="Move forward to this time."
            ),
        ]
    },
    "ClockMoved": closed(
        {
            "seq": SEQ,
            "kind": enum(["clock"]),
            "previous": DATETIME,
            "now": DATETIME,
            "changed": closed(dict.fromkeys(COUNTS, COUNT), description="What the billing lifecycle did."),
        }
    ),
    "Reset": closed({}, description="Nothing to give."),
    "WasReset": closed({"seq": SEQ, "kind": enum(["reset"]), "now": DATETIME}),
    "Error": closed({"message": STRING}),
    "Request": closed(
        {
            "seq": {**COUNT, "description": "Requests recorded before it, plus one."},
            "time": {"type": "string", "format": "date-time", "description": "When it arrived (wall clock)."},
            "method": STRING,
            "path": STRING,
            "query": {"type": "object", "additionalProperties": {"anyOf": [STRING, array(STRING)]}},
            "api": nullable(enum(APIS[:2], description="None: no emulated API's prefix.")),
            "operation": nullable(
                {**STRING, "description": "`<api>.<operationId>`; none if no route took it."}
            ),
            "status": nullable({**INTEGER, "description": "None: the connection was dropped by a fault."}),
            "duration_ms": NUMBER,
            "error": nullable({**STRING, "description": "The message a 4xx or 5xx carried."}),
            "ignored": array(STRING, description="Query parameters the operation does not read."),
            "token": nullable({**STRING, "description": "The first 8 hex digits of the token's SHA-256."}),
            "fault": nullable(enum(["answered", "delayed", "dropped"], description="What a fault rule did.")),
        }
    ),
    "Requests": closed(
        {
            "requests": array(ref("Request"), description="Oldest first."),
            "size": {**COUNT, "description": "The journal's bound (0: off); each worker keeps its own."},
        }
    ),
    "Cleared": closed({"cleared": COUNT}),
    "FaultRule": closed({"respond": ref("FaultResponse")}, RULE_OPTIONAL),
    "FaultResponse": closed(
        {},
        {
            "status": {**INTEGER, "minimum": 100, "maximum": 599},
            "headers": STRING_MAP,
            "body": {"description": "Sent as JSON; default: the API's own error body."},
            "delay_ms": {**INTEGER, "minimum": 0, "maximum": MAX_DELAY_MS},
            "jitter_ms": {**INTEGER, "minimum": 0, "maximum": MAX_DELAY_MS},
            "seed": {**INTEGER, "minimum": 0, "description": "Seeds the jitter's draws."},
            "drop": {**BOOLEAN, "description": "Close the connection without an answer."},
        },
        description="A status, drop, or a delay (then the route answers).",
        anyOf=[{"required": [key]} for key in ("status", "drop", "delay_ms", "jitter_ms")],
        dependentRequired={"headers": ["status"], "body": ["status"]},
        **{"not": {"required": ["drop", "status"], "properties": {"drop": {"const": True}}}},  # no status
    ),
    "Faults": closed(
        {
            "rules": array(
                closed(
                    {
                        "id": {**COUNT, "description": "Its place in the order they are tried."},
                        "respond": ref("FaultResponse"),
                        "matched": {**COUNT, "description": "Fitting requests this worker saw."},
                        "fired": {**COUNT, "description": "Requests it answered in this worker."},
                    },
                    RULE_OPTIONAL,
                ),
                description="Counts run from when the rules last changed.",
            )
        }
    ),
    "FaultsChanged": closed(
        {"seq": SEQ, "kind": enum(["faults", "clear_faults"]), "rules": COUNT}, {"added": COUNT}
    ),
    **WEBHOOK_SCHEMAS,
    "Fixture": FIXTURE,
    "FixturePut": _fixture_put(),
}

BAD_REQUEST = json_reply(400, "The body is not what the change takes; the message says why.", ref("Error"))
TOO_LARGE = json_reply(413, "The body is larger than a control request ever is.", ref("Error"))
NOT_FOUND = json_reply(404, "No such file.", ref("Error"))
CONTROL_TOKEN = "Mock-Control-Token"  # the header that unlocks a locked control plane's writes
# What every write may answer besides its own replies (the document adds them).
LOCKED = json_reply(
    401,
    f"The control plane is locked (`--control-token`, or the fixture's `auth.control_token`) and "
    f"the request did not carry its token in the header `{CONTROL_TOKEN}`; the message names "
    "the header. Reads and health stay open.",
    ref("Error"),
)
UNAVAILABLE = json_reply(
    503,
    "The change could not be written (a full disk, or the Redis the log is kept in unreachable: "
    "the message names its URL), or the world's log could not be read: nothing changed. Reads "
    "go on being served from the last state seen.",
    ref("Error"),
)
CROSS_SITE = json_reply(
    403,
    "A page of another site could have sent it: an Origin other than the server's, or a body of "
    "type text/plain, form or multipart. Scripts send no Origin; the inspector its own.",
    ref("Error"),
)

OPERATIONS: tuple[Operation, ...] = (
    Operation(
        "health",
        "GET",
        "/_mock/health",
        "The world: fixture, seed, clock and counts",
        replies=(json_reply(200, "The server serves.", ref("Health")),),
    ),
    Operation(
        "getClock",
        "GET",
        "/_mock/clock",
        "The billing clock",
        replies=(json_reply(200, "The world's time and its last change.", ref("Clock")),),
    ),
    Operation(
        "moveClock",
        "POST",
        "/_mock/clock",
        "Move the billing clock forward",
        "Period ends met on the way finalize their drafts and open the next periods; processing "
        "payments settle; drafts show their spend at the new time. The change is logged. The "
        f"clock goes at most {HORIZON_YEARS} years past the fixture's `now` (its horizon; a reset "
        "starts again).",
        body=ref("ClockMove"),
        replies=(
            json_reply(200, "What the move did.", ref("ClockMoved")),
            BAD_REQUEST,
            CROSS_SITE,
            json_reply(
                409,
                "A move the clock cannot make from where it stands: not later than it, or past its "
                "horizon. The message names the limit.",
                ref("Error"),
            ),
            TOO_LARGE,
        ),
    ),
    Operation(
        "reset",
        "POST",
        "/_mock/reset",
        "Back to the fixture's world",
        "Logged as a change like any other.",
        body=ref("Reset"),
        body_required=False,
        replies=(
            json_reply(200, "The world is the fixture's again.", ref("WasReset")),
            BAD_REQUEST,
            CROSS_SITE,
            TOO_LARGE,
        ),
    ),
    Operation(
        "listChanges",
        "GET",
        "/_mock/changes",
        "The log of changes",
        "One JSON object per line, oldest first; `mockserver serve --changes FILE` replays it.",
        replies=(Reply(200, "The log.", {"application/x-ndjson": STRING}),),
    ),
    Operation(
        "listRequests",
        "GET",
        "/_mock/requests",
        "The request journal",
        "The latest requests to the emulated APIs (control-plane requests are not recorded), "
        "oldest first. Each worker of `--workers N` keeps its own journal.",
        params=(
            Param("api", enum(APIS[:2]), "Only this API's requests."),
            Param("operation", TEXT, "Only this operation's (`metronome.listInvoices` or `listInvoices`)."),
            Param("method", TEXT, "Only this method's."),
            Param("path", PATH_GLOB, "Only paths this glob matches."),
            Param("status", {**INTEGER, "minimum": 100, "maximum": 599}, "Only those answered with it."),
            Param(
                "since",
                {**INTEGER, "minimum": 0, "maximum": MAX_INTEGER},
                "Only those after this sequence number.",
            ),
            Param(
                "limit",
                {**INTEGER, "minimum": 1, "maximum": MAX_INTEGER, "default": DEFAULT_LIMIT},
                "At most this many.",
            ),
        ),
        replies=(
            json_reply(200, "The requests.", ref("Requests")),
            BAD_REQUEST,
            json_reply(503, "The journal is kept in Redis, unreachable: the message says so.", ref("Error")),
        ),
    ),
    Operation(
        "clearRequests",
        "DELETE",
        "/_mock/requests",
        "Empty the request journal",
        replies=(json_reply(200, "How many entries were dropped.", ref("Cleared")), CROSS_SITE),
    ),
    Operation(
        "listFaults",
        "GET",
        "/_mock/faults",
        "The scripted fault rules",
        replies=(json_reply(200, "The rules, in the order they are tried.", ref("Faults")),),
    ),
    Operation(
        "addFaults",
        "POST",
        "/_mock/faults",
        "Add fault rules",
        "A rule or a list of rules, tried in order after those already there. Logged as a change, "
        "so every worker applies them; a reset brings back the fixture's rules.",
        body={"anyOf": [ref("FaultRule"), array(ref("FaultRule"))]},
        replies=(
            json_reply(200, "The rules were added.", ref("FaultsChanged")),
            BAD_REQUEST,
            CROSS_SITE,
            TOO_LARGE,
        ),
    ),
    Operation(
        "clearFaults",
        "DELETE",
        "/_mock/faults",
        "Remove every fault rule, the fixture's too",
        "Logged as a change.",
        replies=(json_reply(200, "No rule is left.", ref("FaultsChanged")), CROSS_SITE),
    ),
    Operation(
        "listWebhooks",
        "GET",
        "/_mock/webhooks",
        "The webhook endpoints",
        replies=(json_reply(200, "In the order they were registered.", ref("WebhookEndpoints")),),
    ),
    Operation(
        "createWebhook",
        "POST",
        "/_mock/webhooks",
        "Register a webhook endpoint",
        "Logged as a change, so every worker sends to it; a reset brings back the fixture's "
        "endpoints alone. The events the "
        "world's changes give birth to from then on are signed and sent to it as its API does.",
        body=ref("WebhookEndpointNew"),
        replies=(
            json_reply(201, "Registered.", ref("WebhookEndpoint")),
            BAD_REQUEST,
            json_reply(409, "Its id is taken, or there are as many endpoints as there can be.", ref("Error")),
            TOO_LARGE,
        ),
    ),
    Operation(
        "listDeliveries",
        "GET",
        "/_mock/webhooks/deliveries",
        "The delivery attempts",
        "Newest first, the latest made for the world by any process that serves it (every worker "
        "of `--workers N`, every server on one Redis log), each a tenth of a second after its end.",
        params=(
            Param("endpoint", ENDPOINT_ID, "Only to this endpoint."),
            Param("type", {**STRING, "minLength": 1}, "Only events of this type."),
            Param("event_id", {**STRING, "minLength": 1}, "Only this event's."),
            Param("limit", {**INTEGER, "minimum": 1, "maximum": 1000, "default": 100}, "At most this many."),
        ),
        replies=(
            json_reply(200, "The attempts.", ref("Deliveries")),
            BAD_REQUEST,
            json_reply(
                503, "The attempts are kept in Redis, unreachable: the message says so.", ref("Error")
            ),
        ),
    ),
    Operation(
        "redeliver",
        "POST",
        "/_mock/webhooks/redeliver",
        "Send one of the latest events again",
        "From a first attempt, with the same id and body.",
        body=ref("Redeliver"),
        replies=(
            json_reply(202, "Being sent.", ref("Sent")),
            BAD_REQUEST,
            json_reply(404, "No such event among the latest, or no such endpoint.", ref("Error")),
            TOO_LARGE,
        ),
    ),
    Operation(
        "triggerWebhook",
        "POST",
        "/_mock/webhooks/trigger",
        "Send an event of any documented type",
        "With the payload given, to every endpoint of its API that wants it; logged as a change.",
        body=ref("Trigger"),
        replies=(
            json_reply(202, "Being sent.", ref("Sent")),
            BAD_REQUEST,
            json_reply(409, "No endpoint wants it.", ref("Error")),
            TOO_LARGE,
        ),
    ),
    Operation(
        "deleteWebhook",
        "DELETE",
        "/_mock/webhooks/{id}",
        "Remove a webhook endpoint",
        "Logged as a change; its retries stop.",
        params=(Param("id", ENDPOINT_ID, "The endpoint.", where="path"),),
        replies=(
            json_reply(200, "Removed.", ref("WebhookDeleted")),
            json_reply(404, "No such endpoint.", ref("Error")),
        ),
    ),
    Operation(
        "getFixture",
        "GET",
        "/_mock/fixture",
        "The fixture in effect",
        "The one the server started with, or the last one put since. As written (YAML), or with "
        "`Accept: application/json` as JSON.",
        replies=(
            Reply(
                200, "The fixture.", {"application/yaml": ref("Fixture"), "application/json": ref("Fixture")}
            ),
        ),
    ),
    Operation(
        "putFixture",
        "PUT",
        "/_mock/fixture",
        "Replace the world with a new fixture's",
        "As if the server restarted on it, without restarting: the new fixture's clock, customers, "
        "invoices, fault rules and webhook endpoints; the journal stays; a reset from then on "
        "returns to this fixture. Logged as a change, so every worker and replica serves the new "
        "world from its next request. Its `auth`, `isolation`, `meteroid.dialect` and "
        "`metronome.default_sort` must be the server's (set at its start). Bounds: at most "
        f"{fixture.MAX_BYTES} bytes, {fixture.MAX_VALUES} values (YAML aliases counted as what "
        f"they name), {fixture.MAX_CUSTOMERS} customers and {fixture.MAX_INVOICES} invoices "
        "(customers x months x contracts, plus those pinned). YAML may be sent as "
        "application/yaml, application/x-yaml or text/yaml.",
        body=ref("FixturePut"),
        body_media=(fixture.YAML_TYPES[0], fixture.JSON_TYPE),  # YAML's other names are taken too
        replies=(
            json_reply(200, "The new world, as health describes it.", ref("Health")),
            json_reply(
                400,
                "No fixture, or one the server cannot serve: the message is `mockserver check`'s line "
                "(file, line, field). Nothing changed.",
                ref("Error"),
            ),
            CROSS_SITE,
            json_reply(413, f"The body is over {fixture.MAX_BYTES} bytes.", ref("Error")),
            json_reply(415, "The body is neither YAML nor JSON.", ref("Error")),
        ),
    ),
    Operation(
        "getDocument",
        "GET",
        "/_mock/openapi/{api}.json",
        "An OpenAPI 3.1 document of this server",
        params=(Param("api", enum(APIS), "Which API.", where="path"),),
        replies=(
            json_reply(200, "The document.", {"type": "object"}),
            json_reply(404, "No such document.", ref("Error")),
        ),
    ),
    Operation(
        "inspector",
        "GET",
        INSPECTOR,
        "The inspector: the world in a browser",
        replies=(Reply(200, "The page.", {"text/html": STRING}),),
    ),
    Operation(
        "inspectorAsset",
        "GET",
        "/_mock/assets/{name}",
        "A script or style sheet of the inspector",
        params=(Param("name", enum(ASSETS), "The file.", where="path"),),
        replies=(Reply(200, "The file.", {media: STRING for media in ASSETS.values()}), NOT_FOUND),
    ),
    Operation(
        "root",
        "GET",
        "/",
        "Leads to the inspector",
        replies=(Reply(302, "To the inspector.", headers={"Location": enum([INSPECTOR])}),),
    ),
)


def _write(op: Operation) -> Operation:
    """A write as the document shows it: refused when locked, or when its log cannot be written."""
    return replace(op, replies=(*op.replies, LOCKED, UNAVAILABLE)) if op.method != "GET" else op


def document() -> Schema:
    """The document served at /_mock/openapi/control.json: no token is needed but, on a locked
    server, the control token on every write (an optional security requirement there)."""
    doc = build_document(
        "mockserver: control plane",
        "The server's own routes: health, the billing clock, reset, the log of changes, the "
        "request journal, the fault rules, these documents and the inspector. No token is needed; "
        f"a server locked with a control token takes writes only with it, in `{CONTROL_TOKEN}`.",
        [_write(op) for op in OPERATIONS],
        SCHEMAS,
        secured=False,
    )
    doc["components"]["securitySchemes"] = {
        "controlToken": {
            "type": "apiKey",
            "in": "header",
            "name": CONTROL_TOKEN,
            "description": "Needed by every write of a server locked with `--control-token` (or the "
            "fixture's `auth.control_token`); reads and health never need it.",
        }
    }
    for path in doc["paths"].values():
        for method, spec in path.items():
            if method != "get":
                spec["security"] = [{}, {"controlToken": []}]
    return doc
