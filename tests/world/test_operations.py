"""The ground floor's list of operations (what a fault rule may name) is the facades' own."""

from __future__ import annotations

import pytest

from mockserver.meteroid.openapi import operations as meteroid
from mockserver.metronome.openapi import operations as metronome
from mockserver.world.operations import OPERATIONS


@pytest.mark.parametrize(("api", "operations"), [("metronome", metronome), ("meteroid", meteroid)])
def test_every_facade_operation_is_listed_in_its_routing_order(api, operations) -> None:
    described = [(op.id, op.method) for op in operations("")]
    assert list(OPERATIONS[api]) == described, f"world/operations.py differs from {api}'s operations"
