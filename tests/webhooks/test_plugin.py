"""The plugin's `mockserver_webhooks`: a receiver of both APIs' events, signatures verified."""

from __future__ import annotations

import time
from email.utils import formatdate

import pytest

from mockserver.testing.webhooks import SignatureError, verify


def test_the_receiver_gets_each_apis_events_verified(mockserver, mockserver_webhooks) -> None:
    mockserver.advance("P1M")
    event = mockserver_webhooks.wait_for("invoice.finalized", timeout=5, api="metronome")
    assert set(event["properties"]) == {"invoice_id", "customer_id", "invoice_finalized_date"}
    assert mockserver_webhooks.wait_for("invoice.paid", timeout=5)["invoice_id"].startswith("inv_")
    assert not mockserver_webhooks.refused
    deadline = time.monotonic() + 5  # listed once its answer is read, a moment after it arrived
    while not (listed := mockserver.deliveries(event_id=event["id"])) and time.monotonic() < deadline:
        time.sleep(0.01)
    assert [(d["attempt"], d["response_status"]) for d in listed] == [(1, 204)]
    with pytest.raises(TimeoutError):
        mockserver_webhooks.wait_for("invoice.voided", timeout=0.1)


def test_a_wrong_signature_is_refused() -> None:
    with pytest.raises(SignatureError, match="does not match"):
        verify("metronome", "secret", {"X-Metronome-Date": formatdate(usegmt=True)}, b"{}")
