"""A request that is not valid HTTP is answered as JSON in both APIs' shape, in words of HTTP,
with no traceback in the server's log; the server goes on serving."""

from __future__ import annotations

import asyncio
import logging
import socket

import orjson
import pytest
from aiohttp import web
from jsonschema import Draft202012Validator

from mockserver.generation.fixture import load_fixture
from mockserver.meteroid import openapi as meteroid_openapi
from mockserver.metronome import openapi as metronome_openapi
from mockserver.server import build_app
from mockserver.shell.ports import BACKLOG
from mockserver.shell.protocol import ShellRunner
from mockserver.world.state import World

PYTHON_WORDS = ("bytearray", "b'", "Traceback", "^")
# Each API's error as its served document states it: no route knows the request's API.
ERRORS = [
    Draft202012Validator(document["components"]["schemas"]["Error"])
    for document in (metronome_openapi.document("date_asc"), meteroid_openapi.document("documented"))
]


@pytest.fixture
async def served():
    """The app on a real socket through the runner the server uses; its address."""
    runner = ShellRunner(build_app(World.from_fixture(load_fixture(None))), handle_signals=False)
    await runner.setup()
    sock = socket.create_server(("127.0.0.1", 0), backlog=BACKLOG)
    site = web.SockSite(runner, sock)
    await site.start()
    yield sock.getsockname()[:2]
    await runner.cleanup()


async def exchange(address: tuple[str, int], data: bytes) -> tuple[int, bytes, bytes]:
    """Bytes sent as they are; the answer's status, head and body."""
    reader, writer = await asyncio.open_connection(*address)
    writer.write(data)
    answer = await reader.read()
    writer.close()
    head, _, body = answer.partition(b"\r\n\r\n")
    return int(head.split()[1]), head, body


@pytest.mark.parametrize(
    ("data", "says"),
    [
        (
            b"GET /v1/customers/x/invoices?a=" + b"x" * 9000 + b" HTTP/1.1\r\nHost: h\r\n\r\n",
            "the request line or a header line is longer than 8190 bytes",
        ),
        (
            b"GET /api/v1/invoices HTTP/1.1\r\nHost: h\r\nX-Trace: " + b"y" * 9000 + b"\r\n\r\n",
            "the request line or a header line is longer than 8190 bytes",
        ),
        (b"GARBAGE\r\n\r\n", "the request line does not start with an HTTP method"),
        (b"GET /v1/customers HTTP/1.1\r\nHo st: h\r\n\r\n", "the request is not valid HTTP/1.1"),
        (
            b"POST /v1/ingest HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n",
            "the request is not valid HTTP/1.1",
        ),
    ],
)
async def test_a_request_that_is_not_http_gets_a_json_400_in_words_of_http(
    served, caplog, data, says
) -> None:
    caplog.set_level(logging.DEBUG)
    status, head, body = await exchange(served, data)
    assert status == 400
    assert b"Content-Type: application/json" in head
    document = orjson.loads(body)
    assert document == {"code": "BAD_REQUEST", "message": document["message"]}
    for error in ERRORS:
        error.validate(document)
    assert document["message"].startswith(says)
    assert not any(word in document["message"] for word in PYTHON_WORDS)
    assert not [record for record in caplog.records if record.exc_info]  # no traceback logged
    status, _, body = await exchange(
        served, b"GET /_mock/health HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\n"
    )
    assert status == 200 and orjson.loads(body)["status"] == "ok"
