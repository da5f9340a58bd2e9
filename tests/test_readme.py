"""The README's examples work, and those of the pages it links to (docs/): their fixtures are real
fixtures, and the README's Meteroid SDK and ingestion examples run against `mockserver serve` as
shipped."""

import contextlib
import io
import re

import pytest

from mockserver.generation.fixture import parse_fixture
from mockserver.world.state import World
from tests.support import ROOT, running_server

README = (ROOT / "README.md").read_text(encoding="utf-8")
FIXTURE_REFERENCE = (ROOT / "docs" / "fixtures.md").read_text(encoding="utf-8")
PAGES = [README, *(page.read_text(encoding="utf-8") for page in sorted((ROOT / "docs").glob("*.md")))]
DEFAULT_URL = "http://127.0.0.1:8080"


def yaml_blocks(page: str) -> list[str]:
    return re.findall(r"```yaml\n(.*?)```", page, re.S)


BLOCKS = [block for page in PAGES for block in yaml_blocks(page)]


def test_the_readme_shows_a_short_fixture_and_the_reference_a_complete_one() -> None:
    assert yaml_blocks(README) and yaml_blocks(FIXTURE_REFERENCE)
    complete = max(yaml_blocks(FIXTURE_REFERENCE), key=len)
    for key in ("metrics:", "faults:", "generate:", "invoices:", "customers:", "pinned:", "tiers:"):
        assert key in complete


def test_the_readme_is_a_page_that_starts_with_the_test_command() -> None:
    lines = README.splitlines()
    assert len(lines) <= 450
    (command,) = [i for i, line in enumerate(lines) if line.endswith(".venv/bin/python -m pytest")]
    assert command < 40
    assert "chromium-driver" in "\n".join(lines[:command])  # its prerequisites, right there


@pytest.mark.parametrize("text", BLOCKS)
def test_every_yaml_example_in_the_readme_loads(text: str) -> None:
    world = World.from_fixture(parse_fixture(text, "readme.yaml"))
    assert len(world) > 0


def test_the_meteroid_sdk_example_runs_against_the_default_command() -> None:
    (example,) = [b for b in re.findall(r"```python\n(.*?)```", README, re.S) if "from meteroid" in b]
    assert DEFAULT_URL in example
    printed = io.StringIO()
    with running_server(None) as base, contextlib.redirect_stdout(printed):
        exec(example.replace(DEFAULT_URL, base), {})
    lines = printed.getvalue().splitlines()
    assert lines[-2:] == ["Acme Corporation", "400 BAD_REQUEST"]
    assert {line.split()[2] for line in lines[:-3]} == {"FINALIZED", "VOID"}


def test_the_ingestion_example_changes_the_draft_as_it_says() -> None:
    """The README's curl ingestion example, sent as written to `mockserver serve` as shipped."""
    import json
    import urllib.request

    section = README.split("## Writing to the world")[1]
    draft_url = re.search(r"DRAFT='([^']+)'", section).group(1)
    body = re.search(r"-d '(\[.*?\])'", section, re.S).group(1)
    said = re.findall(r'"subtotal": (\d+), "total": (\d+)', section)
    headers = {"Authorization": "Bearer dev-token", "Content-Type": "application/json"}

    def draft(base: str) -> dict:
        request = urllib.request.Request(draft_url.replace(DEFAULT_URL, base), headers=headers)
        with urllib.request.urlopen(request) as response:
            (invoice,) = json.loads(response.read())["data"]
        return invoice

    with running_server(None) as base:
        before = draft(base)
        for _ in range(2):  # the second time, a duplicate: nothing changes
            request = urllib.request.Request(f"{base}/v1/ingest", data=body.encode(), headers=headers)
            with urllib.request.urlopen(request) as response:
                assert (response.status, response.read()) == (200, b"")
        after = draft(base)
    assert [
        (str(before["subtotal"]), str(before["total"])),
        (str(after["subtotal"]), str(after["total"])),
    ] == said
    usage = {
        line["name"]: (line["quantity"], line.get("unit_price"), line["total"])
        for line in after["line_items"]
    }
    assert usage["API requests"] == (1, 0.2, 0) and usage["Active users"] == (1, 150, 150)
