"""What the Meteroid tests share: schema checks of every response, and an oracle.

The oracle lists the invoices a request should return by brute force over the neutral
world, independently of the query engine: filter every invoice, sort with plain keys.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from typing import Any

import orjson

from mockserver.world import clock
from mockserver.world.ids import from_base62_id
from mockserver.world.spec import PAYMENT_STATUSES, STATUSES
from mockserver.world.state import World
from tests.meteroid import schemas as S
from tests.properties import oracle
from tests.support import FIXTURES, TOKEN

AUTH = {"Authorization": f"Bearer {TOKEN}"}
ALIASES_FIXTURE = FIXTURES.parent / "tests" / "meteroid" / "fixtures" / "aliases.yaml"
ORDER_COLUMNS = oracle.METEROID_COLUMNS
PLAIN_PREFIX = "Failed to deserialize query string: "


@cache
def _validator(kind: str, dialect: str) -> Any:
    schema = {
        "invoice": S.invoice_schema,
        "invoice_list": S.invoice_list_schema,
        "customer": S.customer_schema,
        "customer_list": S.customer_list_schema,
    }[kind](dialect)
    return S.validator(schema)


_ERROR = S.validator(S.error_schema())
_validated: set[tuple[str, str, bytes]] = set()


def check_item(kind: str, item: dict, dialect: str) -> None:
    """Validate one invoice or customer; each distinct body is validated once per dialect."""
    key = (kind, dialect, orjson.dumps(item))
    if key not in _validated:
        _validator(kind, dialect).validate(item)
        _validated.add(key)


def check_list(kind: str, body: dict, dialect: str) -> None:
    _validator(f"{kind}_list", dialect).validate({**body, "data": []})
    for item in body["data"]:
        check_item(kind, item, dialect)


def check_error(body: Any) -> None:
    _ERROR.validate(body)


@dataclass
class Answer:
    status: int
    content_type: str
    text: str

    @property
    def json(self) -> Any:
        return orjson.loads(self.text)


def _kind_of(path: str) -> tuple[str, bool]:
    parts = path.strip("/").split("/")  # api, v1, resource[, id]
    kind = {"invoices": "invoice", "customers": "customer"}[parts[2]]
    return kind, len(parts) == 3


async def fetch(client, dialect: str, path: str, params: Any = None, headers: Any = None) -> Answer:
    """GET through the test client; every JSON body is checked against its schema."""
    response = await client.get(path, params=params, headers=AUTH if headers is None else headers)
    answer = Answer(response.status, response.content_type, await response.text())
    if answer.content_type == "application/json":
        body = answer.json
        if answer.status == 200:
            kind, is_list = _kind_of(path)
            if is_list:
                check_list(kind, body, dialect)
            else:
                check_item(kind, body, dialect)
        else:
            check_error(body)
    else:
        assert answer.status == 400 and answer.content_type == "text/plain", answer
    return answer


async def walk(client, dialect: str, path: str, params: list[tuple[str, str]], per_page: int) -> list[dict]:
    """Every page from 0 until the last, checking each page's pagination_meta; the items."""
    items: list[dict] = []
    page = 0
    while True:
        answer = await fetch(
            client, dialect, path, [*params, ("page", str(page)), ("per_page", str(per_page))]
        )
        assert answer.status == 200, answer
        body = answer.json
        meta = body["pagination_meta"]
        total = meta["total_items"]
        assert meta == {
            "page": page,
            "per_page": per_page,
            "total_items": total,
            "total_pages": -(-total // per_page),
        }
        expected_size = max(0, min(per_page, total - page * per_page))
        assert len(body["data"]) == expected_size
        items += body["data"]
        page += 1
        if page >= meta["total_pages"]:
            return items


def uuid_of(prefix: str, rendered: str) -> str:
    decoded = from_base62_id(prefix, rendered)
    assert decoded is not None, rendered
    return decoded


# --- the oracle --------------------------------------------------------------------------------


def _order_value(world: World, column: str, ordinal: int) -> Any:
    invoice = world.invoice(ordinal)
    return {
        "created_at": lambda: invoice.created_at,
        "invoice_number": lambda: invoice.number,
        "customer_name": lambda: invoice.customer.name,
        "amount": lambda: invoice.total,
        "invoice_date": lambda: clock.format_date(invoice.issued_at),
        "status": lambda: STATUSES.index(invoice.status),
        "payment_status": lambda: PAYMENT_STATUSES.index(invoice.payment_status),
    }[column]()


def expected_ids(
    world: World,
    *,
    customer: str | None = None,
    contract: str | None = None,
    statuses: tuple[str, ...] | None = None,
    order: str = "created_at.desc",
) -> list[str]:
    """UUIDs of the matching invoices, in the order `order` asks for, ties broken by id."""
    column, _, direction = order.partition(".")
    found = []
    for ordinal in range(len(world)):
        invoice = world.invoice(ordinal)
        if customer is not None and invoice.customer.id != customer:
            continue
        if contract is not None and (invoice.contract is None or invoice.contract.id != contract):
            continue
        if statuses is not None and invoice.status not in statuses:
            continue
        found.append(((_order_value(world, column, ordinal), invoice.id), invoice.id))
    found.sort(reverse=direction == "desc")
    return [uid for _, uid in found]


def expected_customers(
    world: World, order: str = "created_at.desc", archived: bool = False, search: str | None = None
) -> list[str]:
    """UUIDs of the listed customers of one archive state, optionally searched, in order."""
    column, _, direction = order.partition(".")
    found = []
    for customer in world.customers:
        if (customer.archived_at is not None) != archived:
            continue
        if search is not None and not (
            search.lower() in customer.name.lower() or search.lower() in (customer.alias or "").lower()
        ):
            continue
        value = getattr(customer, column)
        # Postgres: NULLS LAST ascending, NULLS FIRST descending
        found.append(((value is None, "" if value is None else value, customer.id), customer.id))
    found.sort(reverse=direction == "desc")
    return [uid for _, uid in found]
