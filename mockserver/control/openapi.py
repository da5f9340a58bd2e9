"""The control plane's OpenAPI 3.1 document: the server's own routes under `/_mock` (and `/`).

`OPERATIONS` is the control plane's route table: `ControlPlane.routes` serves exactly these, in
this order. To add a route, add its `Operation` here and its handler in `ControlPlane.routes`
under the same id. No token is needed; errors are `{"message": ...}`.
"""

from __future__ import annotations

from mockserver.generation.fixture import DIALECTS, STATUSES
from mockserver.inspector import ASSETS
from mockserver.shell.openapi import (
    INTEGER,
    STRING,
    Operation,
    Param,
    Reply,
    Schema,
    array,
    closed,
    enum,
    json_reply,
    ref,
)
from mockserver.shell.openapi import document as build_document
from mockserver.world.clock import DURATION_PATTERN
from mockserver.world.lifecycle import COUNTS

APIS = ("metronome", "meteroid", "control")  # the documents served, by name
INSPECTOR = "/_mock/"
DATETIME: Schema = {
    "type": "string",
    "format": "date-time",
    "pattern": r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$",
}
SEQ: Schema = {"type": "integer", "minimum": 0, "description": "Changes applied since the fixture's world."}
COUNT: Schema = {"type": "integer", "minimum": 0}

SCHEMAS: dict[str, Schema] = {
    "Health": closed(
        {
            "status": enum(["ok"]),
            "fixture": STRING,
            "seed": INTEGER,
            "now": DATETIME,
            "seq": SEQ,
            "dialect": {
                **enum(DIALECTS),
                "description": "The Meteroid spelling of requests that choose none.",
            },
            "dialects": array(enum(DIALECTS), description="Every Meteroid spelling served."),
            "counts": closed(
                {
                    "customers": COUNT,
                    "contracts": COUNT,
                    "invoices": COUNT,
                    "invoices_by_status": closed(dict.fromkeys(STATUSES, COUNT)),
                }
            ),
        }
    ),
    "Clock": closed({"now": DATETIME, "seq": SEQ}),
    "ClockMove": {
        "oneOf": [
            closed(
                {
                    "advance": {
                        "type": "string",
                        "pattern": DURATION_PATTERN,
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
}

BAD_REQUEST = json_reply(400, "The body is not what the change takes; the message says why.", ref("Error"))
TOO_LARGE = json_reply(413, "The body is larger than a control request ever is.", ref("Error"))
NOT_FOUND = json_reply(404, "No such file.", ref("Error"))

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
        "payments settle; drafts show their spend at the new time. The change is logged.",
        body=ref("ClockMove"),
        replies=(json_reply(200, "What the move did.", ref("ClockMoved")), BAD_REQUEST, TOO_LARGE),
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


def document() -> Schema:
    """The document served at /_mock/openapi/control.json."""
    return build_document(
        "mockserver: control plane",
        "The server's own routes: health, the billing clock, reset, the log of changes, these "
        "documents and the inspector. No token is needed.",
        OPERATIONS,
        SCHEMAS,
        secured=False,
    )
