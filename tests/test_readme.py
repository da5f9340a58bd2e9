"""The README's fixture examples are real fixtures: a newcomer copying one gets a world."""

import re

import pytest

from mockserver.generation.fixture import parse_fixture
from mockserver.world.state import World
from tests.support import ROOT

BLOCKS = re.findall(r"```yaml\n(.*?)```", (ROOT / "README.md").read_text(encoding="utf-8"), re.S)


def test_the_readme_shows_the_short_and_the_complete_fixture() -> None:
    assert len(BLOCKS) >= 2


@pytest.mark.parametrize("text", BLOCKS)
def test_every_yaml_example_in_the_readme_loads(text: str) -> None:
    world = World.from_fixture(parse_fixture(text, "readme.yaml"))
    assert len(world) > 0
