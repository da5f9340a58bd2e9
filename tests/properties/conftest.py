from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.properties.harness import Servers


@pytest.fixture(scope="session")
def servers() -> Iterator[Servers]:
    """Test servers for generated worlds, started on demand and kept for a few worlds."""
    started = Servers()
    yield started
    started.close()
