"""A webhook receiver for tests: a local HTTP server (standard library, a thread of its own)
registered with the mock for both APIs, that checks each delivery's signature as a receiver
must (and answers 400 to one that fails, which the mock then retries) and keeps the events.

    def test_paid(mockserver, mockserver_webhooks):
        mockserver.advance("P1M")
        event = mockserver_webhooks.wait_for("invoice.paid", timeout=5)
        assert event["invoice_id"].startswith("inv_")
"""

from __future__ import annotations

import hmac
import json
import threading
import time
from email.utils import parsedate_to_datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from mockserver.webhooks.signing import metronome_signature, standard_signature

TOLERANCE = 300  # seconds off the receiver's clock a signature may be, as the providers' SDKs allow
API_OF_PATH = {"/metronome": "metronome", "/meteroid": "meteroid"}


class SignatureError(Exception):
    """A delivery whose signature the receiver refused."""


def verify(api: str, secret: str, headers: dict[str, str], body: bytes) -> None:
    """Raises SignatureError unless `headers` sign `body` with `secret` as `api` does."""
    lowered = {name.lower(): value for name, value in headers.items()}
    if api == "metronome":
        date = lowered.get("x-metronome-date", "")
        try:
            sent = parsedate_to_datetime(date).timestamp()
        except (TypeError, ValueError):
            raise SignatureError(f"X-Metronome-Date is not an HTTP date: {date!r}") from None
        expected = metronome_signature(secret, date, body)
        given = lowered.get("metronome-webhook-signature", "")
    else:
        stamp = lowered.get("webhook-timestamp", "")
        if not stamp.isdigit():
            raise SignatureError(f"webhook-timestamp is not Unix seconds: {stamp!r}")
        sent = int(stamp)
        expected = standard_signature(secret, lowered.get("webhook-id", ""), stamp, body)
        given = lowered.get("webhook-signature", "")
    if abs(time.time() - sent) > TOLERANCE:
        raise SignatureError("the signature's time is more than 5 minutes off")
    if not any(hmac.compare_digest(expected, one) for one in given.split(" ")):
        raise SignatureError("the signature does not match")


class Receiver:
    """Events received and verified, by API; `url` is where it listens."""

    def __init__(self) -> None:
        self.secrets: dict[str, str] = {}  # by API, once registered
        self.events: list[tuple[str, dict[str, Any]]] = []  # (api, event) in arrival order
        self.refused: list[str] = []  # why each refused delivery was refused
        self._arrived = threading.Condition()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self._server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}"
        threading.Thread(target=self._server.serve_forever, daemon=True).start()

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                self.send_response(receiver.take(self.path, dict(self.headers), body))
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                pass

        return Handler

    def take(self, path: str, headers: dict[str, str], body: bytes) -> int:
        """The status a delivery is answered with: 204 once verified, else 400 or 404."""
        api = API_OF_PATH.get(path)
        if api is None or api not in self.secrets:
            return 404
        try:
            verify(api, self.secrets[api], headers, body)
        except SignatureError as exc:
            self.refused.append(str(exc))
            return 400
        with self._arrived:
            self.events.append((api, json.loads(body)))
            self._arrived.notify_all()
        return 204

    def wait_for(self, event_type: str, timeout: float = 5, api: str | None = None) -> dict[str, Any]:
        """The first event of this type received (of `api`, if given), waiting for it up to
        `timeout` seconds; TimeoutError if none came."""
        deadline = time.monotonic() + timeout
        with self._arrived:
            while True:
                for got_api, event in self.events:
                    if event["type"] == event_type and api in (None, got_api):
                        return event
                left = deadline - time.monotonic()
                if left <= 0:
                    raise TimeoutError(
                        f"no {event_type} event within {timeout} s ({len(self.events)} others)"
                    )
                self._arrived.wait(left)

    def of(self, event_type: str) -> list[dict[str, Any]]:
        """Every event of this type received so far."""
        with self._arrived:
            return [event for _api, event in self.events if event["type"] == event_type]

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()
