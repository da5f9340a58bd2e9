"""A bounded property-based run of each OpenAPI document against a real server (schemathesis).

Requests are drawn from each operation's parameter schemas (path parameters also from real ids
of the world, so that some reach its invoices); every response must be one the document
describes, in status, media type, headers and body, and none may be a 5xx. The examples per
operation follow the Hypothesis profile (`MOCKSERVER_HYPOTHESIS`, see tests/conftest.py).
"""

from __future__ import annotations

import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlencode
from urllib.request import Request, urlopen

import pytest
import schemathesis
from hypothesis import settings
from hypothesis import strategies as st
from schemathesis.checks import not_a_server_error
from schemathesis.config import SchemathesisConfig
from schemathesis.specs.openapi.checks import (
    allow_header_conformance,
    content_type_conformance,
    ignored_auth,
    missing_required_header,
    negative_data_rejection,
    positive_data_acceptance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
    unsupported_method,
)

from mockserver.control import openapi as control_openapi
from mockserver.generation.fixture import load_fixture
from mockserver.meteroid import openapi as meteroid_openapi
from mockserver.metronome import openapi as metronome_openapi
from mockserver.world.ids import to_base62_id
from mockserver.world.state import World
from tests.support import ROOT, TOKEN, running_server

# Any token is accepted by design (unless a fixture lists some), so schemathesis's check that a
# wrong one is refused does not apply; what a response must be is checked, not what the API
# should accept.
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
]
AUTH = {"Authorization": f"Bearer {TOKEN}"}
HTTP_LIMIT = 8190  # aiohttp's most bytes in a request line or a header

METRONOME = schemathesis.openapi.from_dict(metronome_openapi.document("date_asc"))
METEROID = schemathesis.openapi.from_dict(meteroid_openapi.document("documented"))
# The same documents under every check, the requests drawn as schemathesis draws them (valid and
# not), with the project's schemathesis.toml and the token as a header schemathesis knows of,
# so that it also sends requests without it.
PROJECT = SchemathesisConfig.from_str(
    f'headers = {{ Authorization = "Bearer {TOKEN}" }}\n' + (ROOT / "schemathesis.toml").read_text()
)
METRONOME_ALL = schemathesis.openapi.from_dict(metronome_openapi.document("date_asc"), config=PROJECT)
METEROID_ALL = schemathesis.openapi.from_dict(meteroid_openapi.document("documented"), config=PROJECT)
# Each fixture put builds a world: its operation is drawn from its schema alone, without the
# phase that walks every boundary of every field of a fixture (over a minute on its own).
FIXTURE_PUT_PHASES = """
[[project]]
title = "mockserver: control plane"
[[project.operations]]
include-name = "PUT /_mock/fixture"
phases.coverage.enabled = false
"""
CONTROL = schemathesis.openapi.from_dict(
    control_openapi.document(), config=SchemathesisConfig.from_str(FIXTURE_PUT_PHASES)
)


def _real_path_values() -> tuple[list[dict[str, str]], list[dict[str, str]]]:
    """Path parameters naming real entities of the default world: some forty invoices, each with
    its customer, in each API's spelling."""
    world = World.from_fixture(load_fixture(None))
    metronome, meteroid = [], []
    for ordinal in range(0, len(world), max(1, len(world) // 40)):
        invoice = world.invoice(ordinal)
        metronome.append({"customer_id": invoice.customer.id, "invoice_id": invoice.id})
        meteroid.append(
            {
                "invoice_id": to_base62_id("inv_", invoice.id),
                "id_or_alias": invoice.customer.alias or to_base62_id("cus_", invoice.customer.id),
            }
        )
    return metronome, meteroid


REAL_METRONOME, REAL_METEROID = _real_path_values()


def _with_real(real: list[dict[str, str]]):
    def flatmap_path_parameters(context: Any, path_parameters: dict[str, Any] | None) -> st.SearchStrategy:
        """Those of real entities, or the generated values."""
        if not path_parameters:
            return st.just(path_parameters)
        known = [{name: values[name] for name in path_parameters} for values in real]
        return st.one_of(st.sampled_from(known), st.just(path_parameters))

    return flatmap_path_parameters


def filter_case(context: Any, case: Any) -> bool:
    """Leave out requests that aiohttp's HTTP parser refuses before any route sees them (a request
    line or a header past its 8190 bytes: the 400 of tests/shell/test_protocol.py), so that the
    draws go to the routes. Half the limit, as the client may percent-encode a little differently."""
    line = quote(case.formatted_path) + "?" + urlencode(case.query or {}, doseq=True)
    sizes = [len(line), *(len(str(value)) for value in (case.headers or {}).values())]
    return max(sizes) <= HTTP_LIMIT // 2


for schema in (METRONOME, METEROID, METRONOME_ALL, METEROID_ALL, CONTROL):
    schema.hook(filter_case)
METRONOME.hook(_with_real(REAL_METRONOME))
METEROID.hook(_with_real(REAL_METEROID))


@contextmanager
def server_without_tracebacks(fixture: Path | None = None) -> Iterator[str]:
    """A server that, however it was called, wrote no traceback to its standard error (the
    client saw an answer, but a task of the server's may still have failed)."""
    with tempfile.TemporaryFile() as errors:
        with running_server(fixture, stderr=errors) as base:
            yield base
        errors.seek(0)
        written = errors.read().decode(errors="replace")
    assert "Traceback" not in written, written[-4000:]


@pytest.fixture(scope="module")
def facade_server() -> Iterator[str]:
    """The default world, for this module alone: write operations may change it."""
    with server_without_tracebacks() as base:
        yield base


@pytest.fixture(scope="module")
def guarded_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The default world behind a fixture that lists the one token it takes, so that a request
    without it, or with another, must be refused."""
    fixture = tmp_path_factory.mktemp("guarded") / "guarded.yaml"
    fixture.write_text(f"{(ROOT / 'fixtures' / 'default.yaml').read_text()}\nauth:\n  tokens: [{TOKEN}]\n")
    with server_without_tracebacks(fixture) as base:
        yield base


@pytest.fixture(scope="module")
def control_server() -> Iterator[str]:
    """The default world: its clock's horizon keeps any move cheap."""
    with server_without_tracebacks() as base:
        yield base


@METRONOME.parametrize()
def test_metronome_answers_as_its_document_says(case, facade_server: str) -> None:
    case.call_and_validate(base_url=facade_server, headers=AUTH, checks=CHECKS)


@METEROID.parametrize()
def test_meteroid_answers_as_its_document_says(case, facade_server: str) -> None:
    case.call_and_validate(base_url=facade_server, headers=AUTH, checks=CHECKS)


# Every check: each API and the control plane also take what their documents allow and refuse
# what they do not.
ALL_CHECKS = [
    *CHECKS,
    positive_data_acceptance,
    negative_data_rejection,
    unsupported_method,
    allow_header_conformance,
    missing_required_header,
]


@METRONOME_ALL.parametrize()
def test_metronome_takes_what_its_document_allows_and_refuses_the_rest(case, guarded_server: str) -> None:
    case.call_and_validate(base_url=guarded_server, headers=AUTH, checks=[*ALL_CHECKS, ignored_auth])


@METEROID_ALL.parametrize()
def test_meteroid_takes_what_its_document_allows_and_refuses_the_rest(case, guarded_server: str) -> None:
    case.call_and_validate(base_url=guarded_server, headers=AUTH, checks=[*ALL_CHECKS, ignored_auth])


# A fixture's schema cannot say all that its validator checks (dates that exist, a metric
# priced once, ids unique, the world's size), so a fixture the schema allows may still be
# refused, with `mockserver check`'s line: for it, what is checked is that no refusal is other
# than documented and that whatever the schema refuses is refused.
BEYOND_ITS_SCHEMA = {
    "PUT /_mock/fixture": [c for c in ALL_CHECKS if c.__name__ != "positive_data_acceptance"]
}


@CONTROL.parametrize()
def test_the_control_plane_answers_as_its_document_says(case, control_server: str) -> None:
    checks = BEYOND_ITS_SCHEMA.get(case.operation.label, ALL_CHECKS)
    case.call_and_validate(base_url=control_server, checks=checks, allow_redirects=False)


def _run_workflow(schema: Any, base_url: str, headers: dict[str, str]) -> None:
    """schemathesis's stateful phase: sequences of calls, each fed by what an earlier answer
    named (a customer created, then read, changed, archived; an endpoint registered, then
    deleted), every answer held to every check."""

    class Workflow(schema.as_state_machine()):
        def setup(self) -> None:
            """Each sequence from the fixture's world, so that the same calls get the same
            answers however often Hypothesis replays them."""
            reset = Request(f"{base_url}/_mock/reset", method="POST", headers=headers)
            urlopen(reset, timeout=30).close()

        def get_call_kwargs(self, case: Any) -> dict[str, Any]:
            return {"base_url": base_url, "headers": headers, "allow_redirects": False}

        def validate_response(self, response: Any, case: Any, **kwargs: Any) -> None:
            checks = BEYOND_ITS_SCHEMA.get(case.operation.label, ALL_CHECKS)
            case.validate_response(response, checks=checks, transport_kwargs=kwargs or None)

    Workflow.run(settings=settings(max_examples=settings().max_examples // 3, stateful_step_count=6))


def test_metronome_workflows_hold_to_its_document(guarded_server: str) -> None:
    _run_workflow(METRONOME_ALL, guarded_server, AUTH)


def test_meteroid_workflows_hold_to_its_document(guarded_server: str) -> None:
    _run_workflow(METEROID_ALL, guarded_server, AUTH)


def test_control_workflows_hold_to_its_document() -> None:
    """On a server of its own, so that each sequence's reset rebuilds the default world and not
    whatever fixture the other control-plane cases put last."""
    with server_without_tracebacks() as base:
        _run_workflow(CONTROL, base, {})
