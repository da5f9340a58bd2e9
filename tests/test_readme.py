"""The README's examples work: its fixtures are real fixtures, and its Meteroid SDK example runs
against `mockserver serve` as shipped."""

import contextlib
import io
import re

import pytest

from mockserver.generation.fixture import parse_fixture
from mockserver.world.state import World
from tests.support import ROOT, running_server

README = (ROOT / "README.md").read_text(encoding="utf-8")
BLOCKS = re.findall(r"```yaml\n(.*?)```", README, re.S)
DEFAULT_URL = "http://127.0.0.1:8080"


def test_the_readme_shows_the_short_and_the_complete_fixture() -> None:
    assert len(BLOCKS) >= 2


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
