"""Worlds and clients shared by the Metronome tests."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from metronome import Metronome

from mockserver.generation.fixture import load_world
from mockserver.server import build_app
from mockserver.shell.app import Settings
from mockserver.world.state import World
from tests.support import TOKEN, running_server

EDGES = Path(__file__).parent / "fixtures" / "edges.yaml"
AUTH = {"Authorization": f"Bearer {TOKEN}"}


@pytest.fixture(scope="session")
def edge_world() -> World:
    return load_world(EDGES)


@pytest.fixture
async def edge_client(aiohttp_client, edge_world: World):
    return await aiohttp_client(build_app(edge_world), headers=AUTH)


@pytest.fixture
async def client(aiohttp_client, default_world: World):
    """The default world in process, with a token on every request."""
    return await aiohttp_client(build_app(default_world), headers=AUTH)


@pytest.fixture
async def bare_client(aiohttp_client, edge_world: World):
    """No default headers: for authentication tests."""
    return await aiohttp_client(build_app(edge_world, Settings.from_world(edge_world)))


@pytest.fixture(scope="session")
def sdk(default_server: str) -> Metronome:
    """The official client, validating every response against its models."""
    return Metronome(
        bearer_token=TOKEN, base_url=default_server, max_retries=0, _strict_response_validation=True
    )


@pytest.fixture(scope="session")
def edge_server() -> Iterator[str]:
    with running_server(EDGES) as base:
        yield base


@pytest.fixture(scope="session")
def edge_sdk(edge_server: str) -> Metronome:
    return Metronome(
        bearer_token=TOKEN, base_url=edge_server, max_retries=0, _strict_response_validation=True
    )
