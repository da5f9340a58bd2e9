"""The command line: every mistake is one line on stderr and a non-zero status, never a traceback."""

from __future__ import annotations

import re
import socket
import subprocess
import sys
import time
from importlib import metadata

import pytest

from mockserver.world.ids import to_base62_id
from tests.support import FIXTURES, ROOT

ACME = "7b2f6a3e-1c4d-4e5f-8a9b-0c1d2e3f4a5b"


def mockserver(*args: str, **options) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "mockserver", *args],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=60,
        **options,
    )


def one_line(done: subprocess.CompletedProcess) -> str:
    """The single line a failed command printed on stderr."""
    assert done.returncode != 0
    assert "Traceback" not in done.stderr
    lines = done.stderr.splitlines()
    assert len(lines) == 1, done.stderr
    return lines[0]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--isolate-limit", "0"], "mockserver serve: --isolate-limit must be at least 1"),
        (
            ["--isolate", "token", "--changes", "changes.jsonl"],
            "mockserver serve: --changes cannot be used with token isolation: "
            "each token's world keeps its own log",
        ),
    ],
)
def test_isolation_options_that_cannot_be_served(args: list[str], message: str) -> None:
    assert one_line(mockserver("serve", "--port", "0", *args)) == message


def test_a_negative_page_memory_is_refused() -> None:
    done = mockserver("serve", "--port", "0", "--page-memory", "-1")
    assert one_line(done) == "mockserver serve: --page-memory must be 0 or more MiB"


def test_version_is_the_installed_package_version() -> None:
    done = mockserver("--version")
    assert done.returncode == 0
    assert done.stdout == f"mockserver {metadata.version('mockserver')}\n"


@pytest.mark.parametrize("port", ["99999", "-1", "http"])
def test_a_port_out_of_range(port: str) -> None:
    done = mockserver("serve", f"--port={port}")
    assert done.returncode == 2
    assert one_line(done) == (
        f"mockserver serve: argument --port: '{port}' is not a port number (0-65535; 0 picks a free one) "
        "(see mockserver serve --help)"
    )


def test_a_port_in_use_is_named_at_once() -> None:
    with socket.create_server(("127.0.0.1", 0)) as other:
        port = other.getsockname()[1]
        started = time.monotonic()
        done = mockserver("serve", "--port", str(port))
    assert time.monotonic() - started < 5
    assert done.returncode == 2
    assert one_line(done) == (
        f"mockserver: port {port} on 127.0.0.1 is already in use; stop the other server or pick another "
        "port (--port 0 picks a free one)"
    )
    assert "ready" not in done.stdout


def test_a_host_that_does_not_resolve() -> None:
    done = mockserver("serve", "--host", "no-such-host.invalid", "--port", "0")
    assert done.returncode == 2
    assert one_line(done).startswith("mockserver: cannot listen on host 'no-such-host.invalid': ")


@pytest.mark.parametrize("command", ["serve", "check", "generate"])
def test_a_fixture_that_cannot_be_read(tmp_path, command: str) -> None:
    missing = tmp_path / "missing.yaml"
    done = mockserver(command, *(["--fixtures", str(missing)] if command == "serve" else [str(missing)]))
    assert done.returncode == 2
    assert one_line(done).startswith(f"mockserver: invalid fixture: {missing}: cannot be read")


def test_an_output_file_that_cannot_be_written(tmp_path) -> None:
    target = tmp_path / "no-such-folder" / "world.json"
    done = mockserver("generate", str(FIXTURES / "default.yaml"), "-o", str(target))
    assert done.returncode == 1
    assert one_line(done) == f"mockserver: {target}: No such file or directory"


@pytest.mark.parametrize("args", [["check"], ["generate"]], ids=["check", "generate"])
def test_a_reader_that_stops_reading(args: list[str]) -> None:
    """As `mockserver check ... | head -1`: here the reader is gone before anything is written."""
    process = subprocess.Popen(
        [sys.executable, "-m", "mockserver", *args, str(FIXTURES / "default.yaml")],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        cwd=ROOT,
    )
    process.stdout.close()
    stderr = process.stderr.read()
    process.stderr.close()
    done = subprocess.CompletedProcess(process.args, process.wait(timeout=60), "", stderr)
    assert done.returncode == 141
    assert one_line(done) == "mockserver: output closed by its reader before the end"


def test_a_mistyped_command_is_one_line_too() -> None:
    done = mockserver("serv")
    assert done.returncode == 2
    assert re.fullmatch(
        r"mockserver: argument command: invalid choice: .*\(see mockserver --help\)", one_line(done)
    )


def test_check_lists_each_customer_with_its_id_in_both_apis() -> None:
    done = mockserver("check", str(FIXTURES / "default.yaml"))
    assert done.returncode == 0
    acme = next(line for line in done.stdout.splitlines() if "Acme Corporation" in line)
    assert acme.split()[:2] == [ACME, to_base62_id("cus_", ACME)]
