"""The inspector in a real headless Chromium (see conftest) against a real server: it loads with
no console error, lists the default world's customers, pages through a customer's invoices
through both APIs, shows an invoice in both shapes, a test event ingested onto a draft and a
clock advance; its Requests panel follows the journal live, without its own requests unless
asked; its Webhooks panel shows delivery attempts; a slow answer shows as loading; the Meteroid
tab offers one spelling at a time. And a front-end on another origin reads the headers a client
needs to retry and to know the Meteroid spelling that answered, which a browser hides unless
the server exposes them. The screenshot the first test leaves is printed at the end."""

from __future__ import annotations

import json
import threading
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from selenium.webdriver.common.by import By
from selenium.webdriver.remote.webdriver import WebDriver
from selenium.webdriver.support.ui import Select, WebDriverWait

from tests.support import ROOT, running_server

ARTIFACTS = ROOT / "test-artifacts"
ACME = "7b2f6a3e-1c4d-4e5f-8a9b-0c1d2e3f4a5b"
ACME_DRAFT = "0c491c76-5d8d-497d-8642-aad8469d4930"  # where its usage lands: its first contract's draft
WAIT = 15  # seconds for any one thing to show


def rows(driver: WebDriver, table: str) -> list:
    return driver.find_elements(By.CSS_SELECTOR, f"#{table} tbody tr[data-id]")


def text(driver: WebDriver, element_id: str) -> str:
    return driver.find_element(By.ID, element_id).text


def draft_total(driver: WebDriver) -> str:
    """The total column of Acme's draft in the Metronome-style list."""
    return driver.find_element(By.CSS_SELECTOR, f'#invoices tr[data-id="{ACME_DRAFT}"]').text.split()[-2]


def test_the_inspector_shows_the_world_pages_invoices_and_moves_the_clock(browser: WebDriver, capsys) -> None:
    wait = WebDriverWait(browser, WAIT)
    with running_server() as base:
        browser.get(f"{base}/")
        assert browser.current_url == f"{base}/_mock/"

        # the world and its customers, a page of them
        wait.until(lambda d: len(rows(d, "customers")) == 15)
        assert text(browser, "world-fixture") == "default"
        assert text(browser, "world-customers") == "25"
        names = [row.text.splitlines()[0] for row in rows(browser, "customers")]
        assert {"Acme Corporation", "Globex Europe GmbH", "Initech Ltd", "Umbrella Analytics"} <= set(names)
        browser.find_element(By.ID, "customers-next").click()
        wait.until(lambda d: text(d, "customers-page") == "page 2")
        later = [row.text.splitlines()[0] for row in rows(browser, "customers")]
        assert later and not set(names) & set(later)
        browser.find_element(By.ID, "customers-prev").click()
        wait.until(lambda d: text(d, "customers-page") == "page 1")

        # a customer's invoices, page by page, through the Metronome-style API
        wait.until(lambda d: d.find_element(By.CSS_SELECTOR, f'#customers tr[data-id="{ACME}"]')).click()
        wait.until(lambda d: len(rows(d, "invoices")) == 10)
        first = [row.get_attribute("data-id") for row in rows(browser, "invoices")]
        browser.find_element(By.ID, "invoices-next").click()
        wait.until(lambda d: text(d, "invoices-page") == "page 2")
        second = [row.get_attribute("data-id") for row in rows(browser, "invoices")]
        assert len(second) == 10 and not set(first) & set(second)

        # ... and through the Meteroid-style one
        browser.find_element(By.CSS_SELECTOR, '.tabs button[data-api="meteroid"]').click()
        wait.until(lambda d: text(d, "invoices-page").startswith("page 1 of"))
        browser.find_element(By.ID, "invoices-next").click()
        wait.until(lambda d: text(d, "invoices-page").startswith("page 2 of"))
        picked = rows(browser, "invoices")[0]
        uuid = picked.get_attribute("data-id")
        picked.click()

        # one invoice in both shapes
        wait.until(lambda d: text(d, "invoice-metronome") and text(d, "invoice-meteroid"))
        metronome = json.loads(text(browser, "invoice-metronome"))
        meteroid = json.loads(text(browser, "invoice-meteroid"))
        assert metronome["id"] == uuid and metronome["customer_id"] == ACME
        assert meteroid["id"].startswith("inv_") and meteroid["status"] in {
            "Draft",
            "Finalized",
            "Uncollectible",
            "Void",
        }

        # a test event ingested for the customer: its draft bills one more active user (1.50)
        browser.find_element(By.CSS_SELECTOR, '.tabs button[data-api="metronome"]').click()
        Select(browser.find_element(By.CSS_SELECTOR, '#filters select[data-name="status"]')).select_by_value(
            "DRAFT"
        )
        wait.until(lambda d: {row.get_attribute("data-id") for row in rows(d, "invoices")} >= {ACME_DRAFT})
        before = float(draft_total(browser))
        browser.find_element(By.ID, "ingest-button").click()
        wait.until(
            lambda d: text(d, "status").startswith("Ingested one api_request event for Acme Corporation")
        )
        assert float(draft_total(browser)) == before + 1.50
        assert text(browser, "changes").startswith("ingest: events [1], policy metronome")
        assert text(browser, "world-seq") == "1"

        # the clock moves a month, and the log of changes shows it
        assert text(browser, "clock") == "2026-11-15T12:00:00Z"
        browser.find_element(By.ID, "advance-button").click()
        wait.until(lambda d: text(d, "clock") == "2026-12-15T12:00:00Z")
        wait.until(lambda d: text(d, "changes").startswith("clock: to 2026-12-15T12:00:00Z"))
        wait.until(
            lambda d: "Clock moved from 2026-11-15T12:00:00Z to 2026-12-15T12:00:00Z" in text(d, "status")
        )
        assert text(browser, "world-seq") == "2"

        ARTIFACTS.mkdir(exist_ok=True)
        screenshot = ARTIFACTS / "inspector.png"
        assert browser.save_screenshot(str(screenshot))
        with capsys.disabled():
            print(f"\ninspector screenshot: {screenshot}")

    errors = [entry for entry in browser.get_log("browser") if entry["level"] == "SEVERE"]
    assert not errors, errors


def statuses_offered(driver: WebDriver) -> list[str]:
    return [
        box.get_attribute("value") for box in driver.find_elements(By.CSS_SELECTOR, "#filters fieldset input")
    ]


def journal(base: str) -> list[dict]:
    with urllib.request.urlopen(f"{base}/_mock/requests") as response:
        return json.loads(response.read())["requests"]


def get(base: str, path: str) -> None:
    request = urllib.request.Request(f"{base}{path}", headers={"Authorization": "Bearer app"})
    urllib.request.urlopen(request).close()


def add_fault(base: str, rule: dict) -> None:
    request = urllib.request.Request(
        f"{base}/_mock/faults", data=json.dumps(rule).encode(), headers={"Content-Type": "application/json"}
    )
    urllib.request.urlopen(request).close()


def test_the_requests_panel_follows_the_journal_live_without_the_inspectors_own(browser: WebDriver) -> None:
    wait = WebDriverWait(browser, WAIT)
    with running_server() as base:
        browser.get(f"{base}/_mock/")
        wait.until(lambda d: len(rows(d, "customers")) == 15)
        wait.until(lambda d: text(d, "journal").endswith("no requests yet"))
        assert journal(base) == []  # the inspector's own reads are left out

        # another client's request shows by itself, as a row of the table
        get(base, f"/v1/customers/{ACME}/invoices?limit=3")
        wait.until(lambda d: len(rows(d, "journal")) == 1)
        cells = [cell.text for cell in rows(browser, "journal")[0].find_elements(By.TAG_NAME, "td")]
        assert cells[1:4] == ["GET", f"/v1/customers/{ACME}/invoices?limit=3", "200"]
        assert float(cells[4]) >= 0 and cells[5] == ""

        # asked to, the inspector's own requests are journaled too
        browser.find_element(By.ID, "journal-own").click()
        browser.find_element(By.ID, "customers-next").click()
        wait.until(lambda d: len(rows(d, "journal")) == 2)
        assert [entry["path"] for entry in journal(base)] == [
            f"/v1/customers/{ACME}/invoices",
            "/v1/customers",
        ]


def test_the_webhooks_panel_shows_the_delivery_attempts(browser: WebDriver) -> None:
    wait = WebDriverWait(browser, WAIT)
    with running_server() as base:
        browser.get(f"{base}/_mock/")
        wait.until(lambda d: text(d, "deliveries").endswith("no deliveries yet"))
        assert text(browser, "webhooks-note").startswith("No endpoint")
        endpoint = {"url": "http://127.0.0.1:9/", "api": "meteroid", "retry_scale": 0}
        control_post(base, "/_mock/webhooks", endpoint)
        control_post(base, "/_mock/webhooks/trigger", {"api": "meteroid", "type": "plan.created"})
        wait.until(lambda d: len(rows(d, "deliveries")) == 8)  # Svix's whole schedule, none answered
        cells = [cell.text for cell in rows(browser, "deliveries")[0].find_elements(By.TAG_NAME, "td")]
        assert cells[1] == "plan.created" and cells[4:6] == ["8", "no answer"]
        assert "meteroid http://127.0.0.1:9/" in text(browser, "webhooks-note")


def control_post(base: str, path: str, body: dict) -> None:
    request = urllib.request.Request(
        f"{base}{path}", data=json.dumps(body).encode(), headers={"Content-Type": "application/json"}
    )
    urllib.request.urlopen(request).close()


def test_a_slow_answer_shows_as_loading(browser: WebDriver) -> None:
    wait = WebDriverWait(browser, WAIT)
    with running_server() as base:
        browser.get(f"{base}/_mock/")
        wait.until(lambda d: len(rows(d, "customers")) == 15)
        add_fault(base, {"match": {"operation": "metronome.listInvoices"}, "respond": {"delay_ms": 1500}})
        panel = browser.find_element(By.ID, "invoices-panel")
        assert panel.get_attribute("aria-busy") != "true"
        browser.find_element(By.CSS_SELECTOR, f'#customers tr[data-id="{ACME}"]').click()
        wait.until(lambda d: panel.get_attribute("aria-busy") == "true")
        assert browser.find_element(By.ID, "loading").is_displayed()
        wait.until(lambda d: panel.get_attribute("aria-busy") == "false" and len(rows(d, "invoices")) == 10)
        assert not browser.find_element(By.ID, "loading").is_displayed()


def test_the_meteroid_tab_offers_one_spelling_at_a_time(browser: WebDriver) -> None:
    wait = WebDriverWait(browser, WAIT)
    with running_server() as base:
        browser.get(f"{base}/_mock/")
        wait.until(lambda d: len(rows(d, "customers")) == 15)
        browser.find_element(By.CSS_SELECTOR, '.tabs button[data-api="meteroid"]').click()
        assert statuses_offered(browser) == ["Draft", "Finalized", "Uncollectible", "Void"]
        dialect = Select(
            browser.find_element(By.CSS_SELECTOR, '#filters select[data-name="Meteroid-Dialect"]')
        )
        dialect.select_by_value("upstream")
        wait.until(lambda d: statuses_offered(d) == ["DRAFT", "FINALIZED", "UNCOLLECTIBLE", "VOID"])
        dialect.select_by_value("")
        wait.until(lambda d: statuses_offered(d) == ["Draft", "Finalized", "Uncollectible", "Void"])


# --- a front-end on another origin ------------------------------------------------------------

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
