"""The access log: a line per request naming the operation, with the message of every error."""

from __future__ import annotations

import json
import os
import re
import select
from pathlib import Path

import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer

from mockserver.server import build_app
from mockserver.shell import accesslog
from mockserver.shell.accesslog import runner_options
from mockserver.shell.app import json_response
from mockserver.world.state import World

UMBRELLA = "2c3d4e5f-6a7b-4c8d-9e0f-1a2b3c4d5e6f"
AUTH = {"Authorization": "Bearer t"}


async def serve_logging(
    aiohttp_client, app: web.Application, log_format: str, fd: int, *targets: str
) -> None:
    """GET each of `targets`, then stop the server, which writes the lines still waiting."""
    server = TestServer(app)
    await server.start_server(**runner_options(app, log_format, fd))
    client = await aiohttp_client(server)
    for target in targets:
        await (await client.get(target, headers=AUTH)).read()
    await client.close()


async def logged(
    aiohttp_client, app: web.Application, log_format: str, path: Path, *targets: str
) -> list[str]:
    """The log lines written for GET `targets`, in order, once the server has stopped."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND)
    try:
        await serve_logging(aiohttp_client, app, log_format, fd, *targets)
    finally:
        os.close(fd)
    return path.read_text().splitlines()


async def test_a_line_per_request_names_the_operation_and_an_error_its_message(
    aiohttp_client, default_world: World, tmp_path: Path
) -> None:
    lines = await logged(
        aiohttp_client,
        build_app(default_world),
        "text",
        tmp_path / "log",
        f"/v1/customers/{UMBRELLA}/invoices?limit=2",
        f"/v1/customers/{UMBRELLA}/invoices?limit=500",
        "/api/v1/invoices?page=-1",
        "/api/v1/invoices/inv_nope",
        "/_mock/health",
        "/elsewhere",
    )
    assert len(lines) == 6
    stamp = r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z 127\.0\.0\.1 GET"
    assert re.fullmatch(
        rf"{stamp} /v1/customers/{UMBRELLA}/invoices\?limit=2 200 \d+ [\d.]+ms metronome\.listInvoices",
        lines[0],
    )
    assert re.search(r" 400 \d+ [\d.]+ms metronome\.listInvoices \"limit must be .+\"$", lines[1])
    assert lines[2].endswith(
        'meteroid.listInvoices "Failed to deserialize query string: invalid digit found in string"'
    )
    assert re.search(r" 404 .* meteroid\.getInvoice \"Invoice not found\"$", lines[3])
    assert re.search(r"/_mock/health 200 \d+ [\d.]+ms control\.health$", lines[4])
    assert lines[5].endswith('unmatched "Not Found: GET /elsewhere"')


async def test_json_lines_parse_and_carry_the_same(
    aiohttp_client, default_world: World, tmp_path: Path
) -> None:
    lines = await logged(
        aiohttp_client,
        build_app(default_world),
        "json",
        tmp_path / "log",
        "/api/v1/invoices?per_page=1",
        "/api/v1/invoices?order_by=total.desc",
    )
    entries = [json.loads(line) for line in lines]
    assert entries[0]["status"] == 200 and "message" not in entries[0]
    assert entries[0]["operation"] == "meteroid.listInvoices"
    assert entries[0]["method"] == "GET" and entries[0]["target"] == "/api/v1/invoices?per_page=1"
    assert entries[0]["bytes"] > 0 and entries[0]["ms"] >= 0
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z", entries[0]["time"])
    assert entries[1]["status"] == 400 and "order_by" in entries[1]["message"]


async def test_an_unnamed_route_is_named_by_its_path_pattern(aiohttp_client, tmp_path: Path) -> None:
    async def ok(request: web.Request) -> web.Response:
        return json_response(b"{}")

    app = web.Application()
    app.router.add_get("/bare/{thing}", ok)
    lines = await logged(aiohttp_client, app, "text", tmp_path / "log", "/bare/x")
    assert lines[0].endswith(" /bare/{thing}")


@pytest.mark.parametrize("pipe", [False, True])
async def test_lines_go_out_whole_and_to_a_pipe_in_atomic_writes(
    aiohttp_client, default_world: World, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, pipe: bool
) -> None:
    """Workers share the log's descriptor: their lines may alternate, never mix."""
    if pipe:
        read, fd = os.pipe()
    else:
        fd = os.open(tmp_path / "log", os.O_WRONLY | os.O_CREAT)
        read = os.open(tmp_path / "log", os.O_RDONLY)
    writes: list[bytes] = []
    write = os.write

    def spy(target: int, data: bytes) -> int:
        if target == fd:
            writes.append(bytes(data))
        return write(target, data)

    monkeypatch.setattr(os, "write", spy)
    # One batch however slowly a loaded machine serves them: written at the end, at once.
    monkeypatch.setattr(accesslog, "FLUSH_DELAY", 60)
    targets = [f"/api/v1/invoices?per_page=1&page={page}" for page in range(100)]  # 12 kB of lines
    await serve_logging(aiohttp_client, build_app(default_world), "text", fd, *targets)
    monkeypatch.undo()
    os.close(fd)
    with os.fdopen(read, "rb") as reader:
        written = reader.read()
    assert b"".join(writes) == written and len(written.splitlines()) == 100
    assert all(chunk.endswith(b"\n") for chunk in writes)
    if pipe:
        assert len(writes) > 1 and max(map(len, writes)) <= select.PIPE_BUF
    else:
        assert len(writes) == 1
