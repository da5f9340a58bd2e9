"""The world is deterministic, stable under growth, and internally consistent."""

from __future__ import annotations

import hashlib
import subprocess
import sys
from datetime import datetime
from fractions import Fraction

import yaml
from hypothesis import given
from hypothesis import strategies as st

from mockserver.generation.export import canonical_json, world_document
from mockserver.generation.fixture import load_world, parse_fixture
from mockserver.world.model import Invoice
from mockserver.world.state import World
from tests.support import FIXTURES

# The default world's canonical bytes. A change here means every user's data changes: make it on
# purpose (a generator change, or a dependency bump that alters Faker's output), never by accident.
GOLDEN_DEFAULT_DIGEST = "194da5d5e91a06ea35f2949e8534e5e1ba271b10aef274e6be3bc6622fb5de6b"

SMALL = "seed: 11\nnow: 2026-03-10T08:30:00Z\ngenerate: {customers: 6}\ninvoices: {months: 5, contracts: 2}\n"


def world_of(text: str) -> World:
    return World.from_fixture(parse_fixture(text, "world.yaml"))


def generate_digest(path) -> str:
    output = subprocess.run(
        [sys.executable, "-m", "mockserver", "generate", str(path)], capture_output=True, check=True
    ).stdout
    return hashlib.sha256(output).hexdigest()


def test_same_fixture_gives_identical_bytes_in_separate_processes() -> None:
    first = generate_digest(FIXTURES / "default.yaml")
    second = generate_digest(FIXTURES / "default.yaml")
    assert first == second == GOLDEN_DEFAULT_DIGEST
    in_process = hashlib.sha256(canonical_json(load_world(FIXTURES / "default.yaml"))).hexdigest()
    assert in_process == first


def test_generate_writes_sorted_canonical_json_to_a_file(tmp_path) -> None:
    fixture = tmp_path / "small.yaml"
    fixture.write_text(SMALL)
    out = tmp_path / "world.json"
    subprocess.run([sys.executable, "-m", "mockserver", "generate", str(fixture), "-o", str(out)], check=True)
    assert out.read_bytes() == canonical_json(World.from_fixture(parse_fixture(SMALL, "small.yaml")))


def test_a_different_seed_gives_a_different_world() -> None:
    assert canonical_json(world_of(SMALL)) != canonical_json(world_of(SMALL.replace("seed: 11", "seed: 12")))


def test_adding_a_generated_customer_leaves_the_others_unchanged() -> None:
    before = world_document(world_of(SMALL))
    after = world_document(world_of(SMALL.replace("customers: 6", "customers: 7")))
    assert after["customers"][:6] == before["customers"]
    assert len(after["customers"]) == 7
    old_ids = {c["id"] for c in before["customers"]}
    kept = [inv for inv in after["invoices"] if inv["customer"] in old_ids]
    assert kept == before["invoices"]


def test_adding_a_pinned_customer_leaves_the_generated_ones_unchanged() -> None:
    before = world_document(world_of(SMALL))
    after = world_document(world_of(SMALL + "customers:\n  - name: Newcomer Ltd\n    alias: newcomer\n"))
    assert after["customers"][0]["name"] == "Newcomer Ltd"
    assert after["customers"][1:] == before["customers"]
    newcomer = after["customers"][0]["id"]
    assert [i for i in after["invoices"] if i["customer"] != newcomer] == before["invoices"]


def test_pinned_fields_are_kept_exactly() -> None:
    world = load_world(FIXTURES / "default.yaml")
    acme = world.customers[world.customer_by_alias["acme"]]
    assert acme.id == "7b2f6a3e-1c4d-4e5f-8a9b-0c1d2e3f4a5b"
    assert acme.aliases == ("acme", "acme-corp")
    assert acme.address.city == "San Francisco"
    invoice = world.invoice(world.invoice_by_id["9c0d1e2f-3a4b-4c5d-8e6f-7a8b9c0d1e2f"])
    assert invoice.kind == "one_off" and invoice.payment_status == "partially_paid"
    assert [(line.name, line.quantity, line.total) for line in invoice.lines] == [
        ("Onboarding workshop", "2", 300_000),
        ("Travel", "1", 41_250),
        ("Extra seats", "0", 0),
    ]
    assert invoice.subtotal == 341_250
    assert invoice.memo == "Onboarding workshop, two days on site"


# --- consistency, over generated worlds -------------------------------------------------------

shares = st.sampled_from([0.0, 0.1, 0.5, 1.0])
weights = st.sampled_from([0, 1, 3])


@st.composite
def fixtures(draw) -> str:
    profile = {
        "months": draw(st.integers(1, 14)),
        "contracts": draw(st.integers(1, 3)),
        "void_share": draw(shares),
        "zero_qty_share": draw(shares),
        "credits_share": draw(shares),
        "coupons_share": draw(shares),
        "tax_exempt_share": draw(shares),
        "status_mix": {"finalized": 1 + draw(weights), "uncollectible": draw(weights)},
        "payments": {k: draw(weights) for k in ("paid", "partially_paid", "errored", "processing")}
        | {"unpaid": 1},
        "type_mix": {"usage": 1} | {k: draw(weights) for k in ("scheduled", "usage_consolidated", "one_off")},
    }
    if draw(st.booleans()):
        profile["billing_provider"] = None
    document = {
        "seed": draw(st.integers(0, 2**32)),
        "now": draw(st.datetimes(datetime(2025, 1, 1), datetime(2027, 1, 1))).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "generate": {"customers": draw(st.integers(0, 4)), "archived_share": draw(shares)},
        "invoices": profile,
        "customers": [
            {"name": "Pinned Co", "alias": "pinned", "currency": draw(st.sampled_from(["USD", "EUR", "GBP"]))}
        ],
    }
    return yaml.safe_dump(document)


def check_consistency(invoice: Invoice, now: int) -> None:
    assert sum(line.total for line in invoice.lines) == invoice.subtotal
    for line in invoice.lines:
        if line.unit_price is not None:
            assert Fraction(line.quantity) * Fraction(line.unit_price) == line.total
        else:
            assert sum(t.subtotal for t in line.tiers) == line.total
            assert sum(Fraction(t.quantity) for t in line.tiers) == Fraction(line.quantity)
            for tier in line.tiers:
                assert Fraction(tier.quantity) * Fraction(tier.price) == tier.subtotal
    assert invoice.total == invoice.subtotal + invoice.tax - invoice.credits - invoice.coupons_total
    assert invoice.total >= 0
    assert sum(c.amount for c in invoice.credit_applications) == invoice.credits
    assert sum(c.amount for c in invoice.coupons) == invoice.coupons_total
    assert 0 <= invoice.paid <= invoice.total
    assert invoice.amount_due == invoice.total - invoice.paid
    assert invoice.created_at <= now and invoice.updated_at <= now
    if invoice.status == "draft":
        assert invoice.period_start <= now < invoice.period_end
        assert invoice.finalized_at is None and invoice.paid == 0
    else:
        assert invoice.period_end <= now
        assert invoice.issued_at <= invoice.finalized_at <= now
    if invoice.status == "void":
        assert invoice.finalized_at <= invoice.voided_at <= now
    else:
        assert invoice.voided_at is None
    if invoice.payment_status == "paid" and invoice.total > 0:
        assert invoice.paid == invoice.total and invoice.paid_at <= now
        assert [(p.status, p.amount) for p in invoice.payments] == [("settled", invoice.total)]
    if invoice.payment_status == "partially_paid" and invoice.paid:
        assert sum(p.amount for p in invoice.payments if p.status == "settled") == invoice.paid
    for payment in invoice.payments:
        assert payment.processed_at is None or payment.processed_at <= now


@given(fixtures())
def test_every_generated_invoice_is_self_consistent(text: str) -> None:
    world = world_of(text)
    drafts_per_contract: dict[int, int] = {}
    for ordinal in range(len(world)):
        invoice = world.invoice(ordinal)
        check_consistency(invoice, world.now)
        if invoice.status == "draft":
            drafts_per_contract[invoice.contract.ordinal] = (
                drafts_per_contract.get(invoice.contract.ordinal, 0) + 1
            )
    assert all(count == 1 for count in drafts_per_contract.values())


def test_default_world_is_self_consistent(default_world: World) -> None:
    for ordinal in range(len(default_world)):
        check_consistency(default_world.invoice(ordinal), default_world.now)
