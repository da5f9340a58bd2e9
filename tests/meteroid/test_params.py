"""Query parsing, dialect spelling, the facade's error shapes and how a dialect is chosen."""

from __future__ import annotations

import orjson
import pytest
from multidict import CIMultiDict, CIMultiDictProxy, MultiDict

from mockserver.generation.fixture import load_fixture
from mockserver.meteroid import MeteroidFacade
from mockserver.meteroid import params as P
from mockserver.meteroid.dialect import DIALECTS, chooser, dialect, screaming_snake
from mockserver.meteroid.errors import ApiError, QueryStringError, QueryValidationError
from mockserver.server import build_app
from mockserver.shell.app import Settings
from mockserver.world.state import World
from tests.meteroid.helpers import AUTH, check_error, check_list

UPSTREAM, DOCUMENTED = DIALECTS["upstream"], DIALECTS["documented"]


def query(*pairs: tuple[str, str]) -> MultiDict[str]:
    return MultiDict(pairs)


def test_defaults():
    parsed = P.invoice_list(query(), DOCUMENTED)
    assert parsed == P.InvoiceList(
        paging=P.Paging(0, 10),
        customer=None,
        subscription=None,
        statuses=None,
        order="created_at",
        descending=True,
    )


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("0", 0),
        ("000", 0),
        ("7", 7),
        ("007", 7),
        ("4294967295", 4_294_967_295),
        ("+3", 3),
        ("0" * 30 + "5", 5),
    ],
)
def test_page_accepts_unsigned_32_bit_integers(text, value):
    assert P.paging(query(("page", text))).page == value


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("", "cannot parse integer from empty string"),
        ("-1", "invalid digit found in string"),
        ("1.0", "invalid digit found in string"),
        (" 1", "invalid digit found in string"),
        ("1_000", "invalid digit found in string"),
        ("٣", "invalid digit found in string"),  # a non-ASCII digit
        ("4294967296", "number too large to fit in target type"),
        ("9" * 5000, "number too large to fit in target type"),
    ],
)
def test_page_rejections(text, reason):
    with pytest.raises(QueryStringError) as raised:
        P.paging(query(("page", text)))
    assert raised.value.reason == reason


def test_per_page_range_is_checked_after_parsing():
    assert P.checked(P.paging(query(("per_page", "100")))).per_page == 100
    for text in ("0", "101"):
        with pytest.raises(QueryValidationError) as raised:
            P.checked(P.paging(query(("per_page", text))))
        assert raised.value.text.startswith("pagination.per_page: Validation error: range")
        assert f"Number({text})" in raised.value.text


def test_paging_meta():
    assert P.Paging(3, 7).meta(22) == {"page": 3, "per_page": 7, "total_items": 22, "total_pages": 4}
    assert P.Paging(0, 7).meta(0)["total_pages"] == 0
    assert P.Paging(0, 7).meta(21)["total_pages"] == 3


def test_statuses_in_the_active_dialect():
    parsed = P.invoice_list(
        query(("statuses", "VOID"), ("statuses", "DRAFT"), ("statuses", "VOID")), UPSTREAM
    )
    assert parsed.statuses == frozenset({0, 3})
    assert P.invoice_list(query(("statuses", "Uncollectible")), DOCUMENTED).statuses == frozenset({2})
    with pytest.raises(QueryStringError) as raised:
        P.invoice_list(query(("statuses", "void")), UPSTREAM)
    assert raised.value.reason == (
        "unknown variant `void`, expected one of `DRAFT`, `FINALIZED`, `UNCOLLECTIBLE`, `VOID`"
    )


def test_a_status_in_the_other_dialect_names_the_header_that_asks_for_it():
    with pytest.raises(QueryStringError) as raised:
        P.invoice_list(query(("statuses", "Void")), UPSTREAM)
    assert raised.value.reason == (
        "unknown variant `Void`, expected one of `DRAFT`, `FINALIZED`, `UNCOLLECTIBLE`, `VOID`; "
        "`Void` is the documented spelling: send `Meteroid-Dialect: documented` to use it"
    )
    with pytest.raises(QueryStringError) as raised:
        P.invoice_list(query(("statuses", "Draft"), ("statuses", "UNCOLLECTIBLE")), DOCUMENTED)
    assert raised.value.reason.endswith(
        "; `UNCOLLECTIBLE` is the upstream spelling: send `Meteroid-Dialect: upstream` to use it"
    )


def test_the_first_bad_parameter_in_the_query_decides():
    with pytest.raises(QueryStringError) as raised:
        P.invoice_list(query(("subscription_id", "x"), ("statuses", "nope")), UPSTREAM)
    assert "SubscriptionId" in raised.value.reason
    with pytest.raises(QueryStringError) as raised:
        P.invoice_list(query(("statuses", "nope"), ("subscription_id", "x")), UPSTREAM)
    assert "unknown variant" in raised.value.reason
    with pytest.raises(QueryStringError):  # parsing comes before the page size range
        P.invoice_list(query(("per_page", "0"), ("page", "x")), UPSTREAM)


def test_empty_filter_values_read_as_absent():
    parsed = P.invoice_list(
        query(("customer_id", ""), ("subscription_id", ""), ("statuses", ""), ("order_by", "")), UPSTREAM
    )
    assert (parsed.customer, parsed.subscription, parsed.statuses) == (None, None, None)
    assert (parsed.order, parsed.descending) == ("created_at", True)


def test_subscription_ids():
    uid = "7b8c9d0e-1f2a-4b3c-9d4e-5f6a7b8c9d0e"
    assert P.subscription_uuid("sub_7n42DGM5Tflk9n8mt7Fhc7") == "ffffffff-ffff-ffff-ffff-ffffffffffff"
    assert P.subscription_uuid(uid) == uid
    assert P.subscription_uuid(uid.replace("-", "").upper()) == uid
    for bad in ("sub_", "sub_0O!", "inv_7n42DGM5Tflk9n8mt7Fhc7", "7n42DGM5Tflk9n8mt7Fhc7", "sub_" + "z" * 22):
        with pytest.raises(QueryStringError):
            P.subscription_uuid(bad)


@pytest.mark.parametrize(("text", "key"), list(P.INVOICE_ORDER.items()))
def test_every_invoice_order_column(text, key):
    for direction in ("asc", "desc"):
        parsed = P.invoice_list(query(("order_by", f"{text}.{direction}")), UPSTREAM)
        assert (parsed.order, parsed.descending) == (key, direction == "desc")


def test_order_by_rejections():
    for text in ("id.asc", "amount", "amount.", "amount.DESC", "total.asc", "created_at.desc.desc"):
        with pytest.raises(ApiError) as raised:
            P.order_by(text, P.INVOICE_ORDER)
        assert raised.value.status == 400 and "invoice_number" in raised.value.message


def test_customer_list_parameters():
    parsed = P.customer_list(
        query(("search", "ac"), ("archived", "true"), ("order_by", "alias.asc"), ("per_page", "3"))
    )
    assert parsed == P.CustomerList(P.Paging(0, 3), "ac", True, "alias", False)
    assert P.customer_list(query()).archived is False
    assert P.customer_list(query()).order == "created_at"
    with pytest.raises(QueryStringError):
        P.customer_list(query(("archived", "1")))
    with pytest.raises(ApiError):
        P.customer_list(query(("order_by", "created.asc")))


def test_spelling():
    assert screaming_snake("PartiallyPaid") == "PARTIALLY_PAID"
    assert screaming_snake("UsageThreshold") == "USAGE_THRESHOLD"
    assert DOCUMENTED.payment_status == ("Unpaid", "PartiallyPaid", "Paid", "Errored", "Processing")
    assert UPSTREAM.invoice_type["one_off"] == "ONE_OFF"
    assert UPSTREAM.datetime(0) == "1970-01-01T00:00:00"
    assert DOCUMENTED.datetime(0) == "1970-01-01T00:00:00Z"
    with pytest.raises(ValueError):
        dialect("pascal")


def headers(**pairs: str) -> CIMultiDictProxy[str]:
    return CIMultiDictProxy(CIMultiDict((name.replace("_", "-"), value) for name, value in pairs.items()))


SDK_AGENT = "meteroid-python/0.30.1"


@pytest.mark.parametrize("default", list(DIALECTS))
def test_a_request_is_served_in_the_dialect_it_asks_for(default):
    choose = chooser({name: name.upper() for name in DIALECTS}, default)
    assert choose(headers()) == default.upper()
    assert choose(headers(User_Agent="python-httpx/0.28.1")) == default.upper()
    assert choose(headers(User_Agent=f"Mozilla/5.0 {SDK_AGENT}")) == default.upper()
    # The official SDK's own User-Agent, whatever its version, gets the spelling it decodes.
    assert choose(headers(User_Agent=SDK_AGENT)) == "UPSTREAM"
    assert choose(headers(user_agent="meteroid-python/1.2.0")) == "UPSTREAM"
    # The header wins over everything, and its name is case-insensitive like any header's.
    for name in DIALECTS:
        assert choose(headers(Meteroid_Dialect=name)) == name.upper()
        assert choose(headers(meteroid_dialect=name, User_Agent=SDK_AGENT)) == name.upper()


@pytest.mark.parametrize("value", ["", "Upstream", "UPSTREAM", "pascal", "upstream "])
def test_an_unknown_dialect_header_is_a_json_400_naming_the_dialects(value):
    choose = chooser(dict.fromkeys(DIALECTS), "documented")
    with pytest.raises(ApiError) as raised:
        choose(headers(Meteroid_Dialect=value, User_Agent=SDK_AGENT))
    assert raised.value.status == 400
    assert raised.value.message == (
        f"Invalid Meteroid-Dialect header '{value}': expected documented or upstream"
    )


def test_facade_error_shapes():
    facade = MeteroidFacade()
    assert (facade.name, facade.prefix) == ("meteroid", "/api/")
    unauthorized = facade.unauthorized()
    assert unauthorized.status == 401 and unauthorized.content_type == "application/json"
    assert orjson.loads(unauthorized.body) == {
        "code": "UNAUTHORIZED",
        "message": "Invalid or missing Authorization header",
    }
    for status, code in (
        (404, "NOT_FOUND"),
        (405, "BAD_REQUEST"),
        (429, "TOO_MANY_REQUESTS"),
        (500, "INTERNAL_SERVER_ERROR"),
    ):
        response = facade.error(status, "boom")
        body = orjson.loads(response.body)
        check_error(body)
        assert response.status == status and body == {"code": code, "message": "boom"}


@pytest.mark.parametrize(
    ("configured", "expected"), [("upstream", "DRAFT"), ("documented", "Draft"), (None, "Draft")]
)
async def test_the_fixture_chooses_the_dialect(aiohttp_client, tmp_path, configured, expected):
    section = f"meteroid: {{dialect: {configured}}}\n" if configured else ""
    path = tmp_path / "tiny.yaml"
    path.write_text(
        f"seed: 3\nnow: 2026-02-10T00:00:00Z\n{section}generate: {{customers: 1}}\ninvoices: {{months: 2}}\n"
    )
    world = World.from_fixture(load_fixture(path))
    settings = Settings.from_world(world)
    client = await aiohttp_client(build_app(world, settings))
    response = await client.get("/api/v1/invoices", params={"statuses": expected}, headers=AUTH)
    assert response.status == 200
    body = await response.json()
    check_list("invoice", body, settings.dialect)
    assert [invoice["status"] for invoice in body["data"]] == [expected]
