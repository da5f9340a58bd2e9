from __future__ import annotations

from collections.abc import Iterator

import pytest

from mockserver.generation.fixture import load_fixture
from mockserver.world.state import World
from tests.support import running_server


@pytest.fixture(scope="session")
def default_world() -> World:
    return World.from_fixture(load_fixture(None))


@pytest.fixture(scope="session")
def default_server() -> Iterator[str]:
    """The embedded default world served by a real process, shared by the SDK tests."""
    with running_server() as base:
        yield base


def _register_profiles() -> None:
    """`default` keeps the README's test command quick and the same on every run (a fixed
    derandomised draw, so a red run is reproducible and CI never flickers); MOCKSERVER_HYPOTHESIS=deep
    draws anew each time and digs further."""
    import os

    from hypothesis import HealthCheck, settings

    common = {"deadline": None, "suppress_health_check": [HealthCheck.too_slow], "print_blob": True}
    settings.register_profile("default", max_examples=30, derandomize=True, **common)
    settings.register_profile("deep", max_examples=600, **common)
    settings.load_profile(os.environ.get("MOCKSERVER_HYPOTHESIS", "default"))


_register_profiles()
