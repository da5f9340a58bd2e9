"""A front-end on another origin, in a real Chromium (see conftest): its `fetch` reads the headers
a client needs to retry and to know the Meteroid spelling that answered, which a browser hides
unless the server exposes them."""

from __future__ import annotations

import json
import threading
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from selenium.webdriver.remote.webdriver import WebDriver

from tests.support import running_server

PAGE = b"<!doctype html><title>an app on another origin</title>"
# Runs in the app's page: one request, the status and the headers the page's script can read.
FETCH = """
const [url, done] = arguments;
fetch(url, {headers: {Authorization: "Bearer app-token"}})
  .then(r => done({status: r.status, headers: Object.fromEntries(r.headers.entries())}))
  .catch(e => done({error: String(e)}));
"""


class _Page(BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        self.send_response(200)
        self.send_header("Content-Type", "text/html")
        self.end_headers()
        self.wfile.write(PAGE)

    def log_message(self, *args: object) -> None:
        """Quiet: the test's output is its assertions."""


@contextmanager
def another_origin() -> Iterator[str]:
    """A page served from a port of its own, so another origin than the mock server's."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Page)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/"
    finally:
        server.shutdown()
        server.server_close()


def add_fault(base: str, rule: dict) -> None:
    request = urllib.request.Request(
        f"{base}/_mock/faults", data=json.dumps(rule).encode(), headers={"Content-Type": "application/json"}
    )
    urllib.request.urlopen(request).close()


def fetched(browser: WebDriver, url: str) -> dict:
    return browser.execute_async_script(FETCH, url)


def test_an_app_on_another_origin_reads_retry_hints_and_the_meteroid_dialect(browser: WebDriver) -> None:
    with running_server() as base, another_origin() as app:
        browser.get(app)
        add_fault(
            base,
            {
                "match": {"api": "metronome"},
                "respond": {"status": 429, "headers": {"Retry-After": "1", "retry-after-ms": "250"}},
                "times": 1,
            },
        )
        limited = fetched(browser, f"{base}/v1/customers")
        assert limited["status"] == 429
        assert (limited["headers"]["retry-after"], limited["headers"]["retry-after-ms"]) == ("1", "250")
        assert fetched(browser, f"{base}/v1/customers")["status"] == 200

        meteroid = fetched(browser, f"{base}/api/v1/invoices?per_page=1")
        assert (meteroid["status"], meteroid["headers"]["meteroid-dialect"]) == (200, "documented")
