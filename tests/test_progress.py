"""Progress of slow loads: a bar on a terminal, one line in a log, nothing for small worlds."""

from __future__ import annotations

import io
import os
import pty
import re
import subprocess
import sys

import pytest

from mockserver.progress import log_line, terminal_progress
from tests.support import ROOT


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_a_bar_is_drawn_on_a_terminal_and_ends_its_line() -> None:
    stream = Terminal()
    draw = terminal_progress("generating", stream=stream)
    assert draw is not None
    draw(1, 4)
    draw(4, 4)
    text = stream.getvalue()
    assert "\rgenerating [#######-----------------------] 1/4 customers" in text
    assert "4/4 customers" in text and text.endswith("\n")


def test_no_bar_and_one_line_when_nobody_watches() -> None:
    stream = io.StringIO()
    assert terminal_progress("generating", stream=stream) is None
    log_line("generated 3 invoices in 0.1 s", stream)
    assert stream.getvalue() == "mockserver: generated 3 invoices in 0.1 s\n"
    terminal = Terminal()
    log_line("generated 3 invoices in 0.1 s", terminal)
    assert terminal.getvalue() == ""


LARGE = "seed: 3\ngenerate:\n  customers: 250\ninvoices:\n  months: 40\n"  # large enough to report


@pytest.fixture
def large_fixture(tmp_path):
    path = tmp_path / "large.yaml"
    path.write_text(LARGE)
    return path


def test_check_on_a_log_reports_the_load_in_one_line(large_fixture) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "mockserver", "check", str(large_fixture)],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    assert re.fullmatch(r"mockserver: generated \d+ invoices of 250 customers in [\d.]+ s\n", done.stderr)


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="uses a pseudo-terminal")
def test_check_on_a_terminal_draws_the_bar(large_fixture) -> None:
    leader, follower = pty.openpty()
    try:
        done = subprocess.run(
            [sys.executable, "-m", "mockserver", "check", str(large_fixture)],
            stdout=subprocess.DEVNULL,
            stderr=follower,
            cwd=ROOT,
            timeout=120,
        )
        os.close(follower)
        follower = -1
        chunks = []
        while True:
            try:
                chunk = os.read(leader, 65536)
            except OSError:  # the terminal's other end is closed and drained
                break
            if not chunk:
                break
            chunks.append(chunk)
    finally:
        if follower >= 0:
            os.close(follower)
        os.close(leader)
    assert done.returncode == 0
    shown = b"".join(chunks).decode()
    assert "generating [" in shown and "250/250 customers" in shown
    assert "mockserver: generated" not in shown
