from __future__ import annotations

import pytest

from mockserver.generation.fixture import load_fixture
from mockserver.server import build_app
from mockserver.shell.app import Settings
from mockserver.world.state import World
from tests.meteroid.helpers import ALIASES_FIXTURE

DIALECTS = ("documented", "upstream")


@pytest.fixture(scope="session")
def alias_world() -> World:
    return World.from_fixture(load_fixture(ALIASES_FIXTURE))


@pytest.fixture(params=DIALECTS)
def dialect(request) -> str:
    return request.param


@pytest.fixture
async def client(aiohttp_client, default_world, dialect):
    """The default world through the Meteroid-style API, in each dialect."""
    return await aiohttp_client(build_app(default_world, Settings(dialect=dialect)))


@pytest.fixture
async def alias_client(aiohttp_client, alias_world, dialect):
    return await aiohttp_client(build_app(alias_world, Settings(dialect=dialect)))
