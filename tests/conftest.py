from __future__ import annotations

from collections.abc import Iterator

import pytest

from mockserver.fixture import load_fixture
from mockserver.world import World
from tests.support import running_server


@pytest.fixture(scope="session")
def default_world() -> World:
    return World.from_fixture(load_fixture(None))


@pytest.fixture(scope="session")
def default_server() -> Iterator[str]:
    """The embedded default world served by a real process, shared by the SDK tests."""
    with running_server() as base:
        yield base
