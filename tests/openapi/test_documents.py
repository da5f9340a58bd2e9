"""The served OpenAPI documents: valid OpenAPI 3.1, one operation per route, parameters as the
parsers enforce them, every response of the default world valid against its schema, and every
answer a write endpoint documents given, as documented."""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field
from typing import Any

import pytest
from openapi_spec_validator import OpenAPIV31SpecValidator

from mockserver import inspector
from mockserver.control import openapi as control_openapi
from mockserver.generation.fixture import load_world
from mockserver.meteroid import openapi as meteroid_openapi
from mockserver.metronome import openapi as metronome_openapi
from mockserver.server import build_app
from mockserver.shell.app import Settings
from mockserver.shell.body import MAX_BODY
from mockserver.world.state import World
from tests.openapi.helpers import APIS, SHORT, response_validator, wire
from tests.support import TOKEN

AUTH = {"Authorization": f"Bearer {TOKEN}"}
ACME = "7b2f6a3e-1c4d-4e5f-8a9b-0c1d2e3f4a5b"
ACME_INVOICE = "9c0d1e2f-3a4b-4c5d-8e6f-7a8b9c0d1e2f"
# A real value for each path parameter of the default world (Meteroid takes an invoice's UUID too).
PATH_VALUES = {"customer_id": ACME, "invoice_id": ACME_INVOICE, "id_or_alias": "acme"}
# As the default world is served (and as tests/openapi/test_conformance.py runs them).
DOCUMENTS = {
    "metronome": metronome_openapi.document("date_asc"),
    "meteroid": meteroid_openapi.document("documented"),
}
SERVED = {**DOCUMENTS, "control": control_openapi.document()}


@pytest.fixture
async def client(aiohttp_client, default_world: World):
    return await aiohttp_client(build_app(default_world), headers=AUTH)


async def served(client, api: str) -> dict[str, Any]:
    response = await client.get(f"/_mock/openapi/{api}.json")
    assert response.status == 200, await response.text()
    return await response.json()


@pytest.mark.parametrize("api", APIS)
async def test_each_served_document_is_valid_openapi_3_1(client, api: str) -> None:
    doc = await served(client, api)
    OpenAPIV31SpecValidator(doc).validate()
    assert doc["openapi"] == "3.1.0"
    assert doc == SERVED[api]


async def test_the_documents_follow_the_server_settings(aiohttp_client, default_world: World) -> None:
    client = await aiohttp_client(
        build_app(default_world, Settings(dialect="upstream", default_sort="date_desc"))
    )
    metronome, meteroid = await served(client, "metronome"), await served(client, "meteroid")
    (sort,) = [
        p
        for p in metronome["paths"]["/v1/customers/{customer_id}/invoices"]["get"]["parameters"]
        if p["name"] == "sort"
    ]
    assert sort["schema"]["default"] == "date_desc"
    (header,) = [p for p in meteroid["paths"]["/api/v1/invoices"]["get"]["parameters"] if p["in"] == "header"]
    assert header["schema"]["default"] == "upstream"


async def test_every_route_is_one_operation_of_a_document(client) -> None:
    routes = {
        (route.method, route.resource.canonical)
        for route in client.app.router.routes()
        if route.method not in ("*", "HEAD")  # fallbacks; HEAD is served with each GET
    }
    documented = set()
    for api in APIS:
        for path, methods in (await served(client, api))["paths"].items():
            documented.update((method.upper(), path) for method in methods)
    assert routes == documented


# --- parameters as the parsers enforce them ------------------------------------------------------


def _operations() -> list[tuple[str, str, str, dict[str, Any]]]:
    """(api, path, method, operation) of each read of both facades: what their query parsers
    take (a write's body is checked by tests/*/test_http_writes.py and the conformance run)."""
    return [
        (api, path, method, op)
        for api, doc in DOCUMENTS.items()
        for path, methods in doc["paths"].items()
        for method, op in methods.items()
        if method == "get"
    ]


def _claims() -> list[Any]:
    cases = []
    for api, path, method, op in _operations():
        for param in op.get("parameters", ()):
            if param["in"] != "path":
                cases.append(
                    pytest.param(api, path, method, op, param, id=f"{op['operationId']}.{param['name']}")
                )
    return cases


class Caller:
    """Sends one operation with a set of parameter values, the others left out."""

    def __init__(self, client, path: str, method: str, op: dict[str, Any]) -> None:
        self.client, self.method, self.op = client, method, op
        self.url = path.format(**PATH_VALUES)

    async def send(self, param: dict[str, Any] | None = None, value: Any = None, **headers: str):
        query: list[tuple[str, str]] = []
        if param is not None:
            if param["in"] == "header":
                headers = {**headers, param["name"]: wire(value)}
            elif isinstance(value, list):
                if param.get("explode", True):
                    query += [(param["name"], wire(item)) for item in value]
                else:
                    query.append((param["name"], ",".join(map(wire, value))))
            else:
                query.append((param["name"], wire(value)))
        response = await self.client.request(self.method, self.url, params=query, headers=headers)
        return response.status, await response.read()

    def header_choices(self) -> list[dict[str, str]]:
        """No header, then each value of each header parameter (a value may need its dialect)."""
        choices: list[dict[str, str]] = [{}]
        for param in self.op.get("parameters", ()):
            if param["in"] == "header":
                choices += [{param["name"]: value} for value in param["schema"]["enum"]]
        return choices


@pytest.mark.parametrize(("api", "path", "method", "op", "param"), _claims())
async def test_each_parameter_is_read_as_documented(client, api, path, method, op, param) -> None:
    """Its default is what leaving it out does; its enum values are accepted and nothing else; its
    range is accepted up to its bounds and refused past them."""
    call = Caller(client, path, method, op)
    schema = param["schema"]
    absent = await call.send()
    assert absent[0] == 200
    if "default" in schema:
        assert await call.send(param, schema["default"]) == absent
    is_array = schema.get("type") == "array"
    values = schema["items"].get("enum") if is_array else schema.get("enum")
    if values:
        for value in values:
            sent = [value] if is_array else value
            statuses = {(await call.send(param, sent, **headers))[0] for headers in call.header_choices()}
            assert 200 in statuses, f"{param['name']}={value} is refused"
        refused = await call.send(param, ["Nonsense"] if is_array else "Nonsense")
        assert refused[0] == 400
    if schema.get("type") == "integer":
        low, high = schema["minimum"], schema["maximum"]
        assert (await call.send(param, low))[0] == 200
        assert (await call.send(param, high))[0] == 200
        assert (await call.send(param, low - 1))[0] == 400
        assert (await call.send(param, high + 1))[0] == 400


# --- every response of the default world against its schema --------------------------------------


class Checked:
    """GETs whose bodies are validated against the operation's documented 200."""

    def __init__(self, client, doc: dict[str, Any]) -> None:
        self.client, self.doc = client, doc
        self.validators: dict[str, Any] = {}

    async def get(self, template: str, url: str, **kwargs: Any) -> Any:
        response = await self.client.get(url, **kwargs)
        assert response.status == 200, await response.text()
        body = await response.json()
        if template not in self.validators:
            self.validators[template] = response_validator(self.doc, template, "get", 200)
        errors = [
            f"{list(e.absolute_path)}: {e.message}" for e in self.validators[template].iter_errors(body)
        ]
        assert not errors, f"{url}: {errors[:5]}"
        return body


async def test_every_metronome_response_of_the_default_world_is_as_documented(client, default_world) -> None:
    checked = Checked(client, await served(client, "metronome"))
    customers = []
    for archived in ("false", "true"):
        page = await checked.get(
            "/v1/customers", "/v1/customers", params={"limit": "100", "only_archived": archived}
        )
        assert page["next_page"] is None
        customers += [c["id"] for c in page["data"]]
    assert len(customers) == len(default_world.customers)
    invoices = 0
    for customer, skip in itertools.product(customers, ("false", "true")):
        await checked.get("/v1/customers/{customer_id}", f"/v1/customers/{customer}")
        template = "/v1/customers/{customer_id}/invoices"
        query = {"limit": "100", "skip_zero_qty_line_items": skip}
        cursor = None
        while True:
            page = await checked.get(template, template.format(customer_id=customer), params=query)
            invoices += len(page["data"])
            cursor = page["next_page"]
            if cursor is None:
                break
            query = {**query, "next_page": cursor}
    assert invoices == 2 * len(default_world)
    one = f"/v1/customers/{ACME}/invoices/{ACME_INVOICE}"
    await checked.get("/v1/customers/{customer_id}/invoices/{invoice_id}", one)


@pytest.mark.parametrize("dialect", ["documented", "upstream"])
async def test_every_meteroid_response_of_the_default_world_is_as_documented(
    client, default_world, dialect
) -> None:
    checked = Checked(client, await served(client, "meteroid"))
    headers = {"Meteroid-Dialect": dialect}
    seen, page_number = 0, 0
    while True:
        params = {"per_page": "100", "page": str(page_number)}
        page = await checked.get("/api/v1/invoices", "/api/v1/invoices", params=params, headers=headers)
        if not page["data"]:
            break
        seen += len(page["data"])
        page_number += 1
    assert seen == len(default_world)
    for archived in ("false", "true"):
        params = {"per_page": "100", "archived": archived}
        page = await checked.get("/api/v1/customers", "/api/v1/customers", params=params, headers=headers)
        for customer in page["data"]:
            await checked.get(
                "/api/v1/customers/{id_or_alias}", f"/api/v1/customers/{customer['id']}", headers=headers
            )
    await checked.get("/api/v1/invoices/{invoice_id}", f"/api/v1/invoices/{ACME_INVOICE}", headers=headers)


async def test_the_control_plane_answers_as_documented(aiohttp_client) -> None:
    client = await aiohttp_client(build_app(load_world(SHORT)))
    doc = await served(client, "control")

    async def check(
        method: str, path: str, status: int, media: str | None = "application/json", **kwargs: Any
    ):
        response = await client.request(method, path, allow_redirects=False, **kwargs)
        assert response.status == status, await response.text()
        assert media is None or response.content_type == media
        if media == "application/json":
            errors = list(response_validator(doc, path, method, status).iter_errors(await response.json()))
            assert not errors, errors[:3]
        return response

    await check("GET", "/_mock/health", 200)
    await check("GET", "/_mock/clock", 200)
    await check("POST", "/_mock/clock", 200, json={"advance": "P1M"})
    await check("POST", "/_mock/clock", 400, json={"advance": "one month"})
    await check("POST", "/_mock/reset", 200)
    await check("GET", "/_mock/changes", 200, "application/x-ndjson")
    await check("GET", "/_mock/", 200, "text/html")
    for name, media in inspector.ASSETS.items():
        await check("GET", f"/_mock/assets/{name}", 200, media)
    redirect = await check("GET", "/", 302, None)
    assert redirect.headers["Location"] == control_openapi.INSPECTOR


# --- every answer of the write endpoints against its schema ---------------------------------------

GLOBEX = "1a2b3c4d-5e6f-4a7b-8c9d-0e1f2a3b4c5d"
NOBODY = "00000000-0000-4000-8000-000000000000"
PLAIN_CUSTOMER = {
    "currency": "USD",
    "custom_taxes": [],
    "invoicing_emails": [],
    "invoicing_entity_id": "ive_1",
}


@dataclass(frozen=True)
class Write:
    """One write request and the status it gets, sent in order on the default world."""

    method: str
    template: str
    status: int
    body: Any = None
    path: dict[str, str] = field(default_factory=dict)  # path values other than PATH_VALUES'


WRITES = [
    Write("POST", "/v1/ingest", 200, [{"transaction_id": "doc-1", "customer_id": "acme", "event_type": "x"}]),
    Write("POST", "/v1/ingest", 400, []),
    Write(
        "POST", "/v1/customers/{customer_id}/previewEvents", 200, {"events": [{"event_type": "api_request"}]}
    ),
    Write("POST", "/v1/customers/{customer_id}/previewEvents", 400, {"events": [], "mode": "merge"}),
    Write("POST", "/v1/customers/{customer_id}/previewEvents", 404, {"events": []}, {"customer_id": NOBODY}),
    Write("POST", "/v1/invoices/void", 200, {"id": ACME_INVOICE}),
    Write("POST", "/v1/invoices/void", 400, {"id": ACME_INVOICE}),
    Write("POST", "/v1/invoices/void", 404, {"id": NOBODY}),
    Write("POST", "/v1/invoices/regenerate", 200, {"id": ACME_INVOICE}),
    Write("POST", "/v1/invoices/regenerate", 400, {"id": ACME_INVOICE}),
    Write("POST", "/v1/invoices/regenerate", 404, {"id": NOBODY}),
    Write("POST", "/v1/customers", 200, {"name": "Documented Ltd", "ingest_aliases": ["documented"]}),
    Write("POST", "/v1/customers", 400, {"name": " "}),
    Write("POST", "/v1/customers", 409, {"name": "Copy", "ingest_aliases": ["acme"]}),
    Write("POST", "/v1/customers/archive", 200, {"id": GLOBEX}),
    Write("POST", "/v1/customers/archive", 400, {"id": GLOBEX}),
    Write("POST", "/v1/customers/archive", 404, {"id": NOBODY}),
    Write(
        "POST", "/v1/customers/{customer_id}/setIngestAliases", 200, {"ingest_aliases": ["acme", "acme-corp"]}
    ),
    Write("POST", "/v1/customers/{customer_id}/setIngestAliases", 400, {}),
    Write(
        "POST",
        "/v1/customers/{customer_id}/setIngestAliases",
        404,
        {"ingest_aliases": []},
        {"customer_id": NOBODY},
    ),
    Write("POST", "/v1/customers/{customer_id}/setIngestAliases", 409, {"ingest_aliases": ["globex"]}),
    Write(
        "POST",
        "/api/v1/events/ingest",
        200,
        {"events": [{"event_id": "doc-1", "customer_id": "acme", "code": "x"}]},
    ),
    Write("POST", "/api/v1/events/ingest", 400, {"events": []}),
    Write("POST", "/api/v1/events/ingest", 400, {"events": [1]}),
    Write("POST", "/api/v1/customers", 201, {"currency": "USD", "name": "Doc GmbH", "alias": "doc"}),
    Write("POST", "/api/v1/customers", 400, {"currency": "usd", "name": "Lower"}),
    Write("POST", "/api/v1/customers", 409, {"currency": "USD", "name": "Copy", "alias": "acme"}),
    Write(
        "PUT",
        "/api/v1/customers/{id_or_alias}",
        200,
        {**PLAIN_CUSTOMER, "name": "Doc AG", "alias": "doc"},
        {"id_or_alias": "doc"},
    ),
    Write("PUT", "/api/v1/customers/{id_or_alias}", 400, {"currency": "EUR"}, {"id_or_alias": "doc"}),
    Write("PUT", "/api/v1/customers/{id_or_alias}", 404, PLAIN_CUSTOMER, {"id_or_alias": "nobody"}),
    Write(
        "PUT",
        "/api/v1/customers/{id_or_alias}",
        409,
        {**PLAIN_CUSTOMER, "name": "Doc", "alias": "acme"},
        {"id_or_alias": "doc"},
    ),
    Write("PATCH", "/api/v1/customers/{id_or_alias}", 200, {"vat_number": "DE1"}, {"id_or_alias": "doc"}),
    Write("PATCH", "/api/v1/customers/{id_or_alias}", 400, {"name": ""}, {"id_or_alias": "doc"}),
    Write("PATCH", "/api/v1/customers/{id_or_alias}", 404, {}, {"id_or_alias": "nobody"}),
    Write("PATCH", "/api/v1/customers/{id_or_alias}", 409, {"alias": "acme"}, {"id_or_alias": "doc"}),
    Write("DELETE", "/api/v1/customers/{id_or_alias}", 400, path={"id_or_alias": "acme"}),  # contracts run
    Write("DELETE", "/api/v1/customers/{id_or_alias}", 204, path={"id_or_alias": "doc"}),
    Write("DELETE", "/api/v1/customers/{id_or_alias}", 400, path={"id_or_alias": "doc"}),
    Write("DELETE", "/api/v1/customers/{id_or_alias}", 404, path={"id_or_alias": "nobody"}),
    Write("POST", "/api/v1/customers/{id_or_alias}/unarchive", 204, path={"id_or_alias": "doc"}),
    Write("POST", "/api/v1/customers/{id_or_alias}/unarchive", 400, path={"id_or_alias": "doc"}),
    Write("POST", "/api/v1/customers/{id_or_alias}/unarchive", 404, path={"id_or_alias": "nobody"}),
]


def _write_operations() -> dict[tuple[str, str], tuple[str, dict[str, Any]]]:
    """(method, path) -> (api, operation) of each operation of the facades that is not a GET."""
    return {
        (method.upper(), path): (api, op)
        for api, doc in DOCUMENTS.items()
        for path, methods in doc["paths"].items()
        for method, op in methods.items()
        if method != "get"
    }


async def test_every_write_answer_is_as_documented_and_every_documented_one_is_given(
    aiohttp_client, default_world: World
) -> None:
    """Each write's documented answers, each reached: what the table sends, then, for every write,
    no token (401), and, for one that reads a body, one too large (413) and, where the API
    answers it, one not declared as JSON (415). Every body is checked against its schema."""
    client = await aiohttp_client(build_app(default_world))
    docs = {api: await served(client, api) for api in DOCUMENTS}
    operations = _write_operations()
    reached: set[tuple[str, str, int]] = set()

    async def check(method: str, template: str, status: int, headers: dict[str, str], **kwargs: Any) -> None:
        api, op = operations[(method, template)]
        url = template.format(**{**PATH_VALUES, **kwargs.pop("path", {})})
        response = await client.request(method, url, headers=headers, **kwargs)
        assert response.status == status, f"{method} {url}: {await response.text()}"
        reply = op["responses"][str(status)]
        media = response.content_type
        if "content" not in reply:
            assert await response.read() == b"", f"{method} {url}"
        else:
            assert media in reply["content"], f"{method} {url}: {media}"
            body = await response.json() if media == "application/json" else await response.text()
            errors = list(response_validator(docs[api], template, method, status, media).iter_errors(body))
            assert not errors, f"{method} {url}: {errors[:3]}"
        for name in reply.get("headers", {}):
            assert name in response.headers, f"{method} {url}: no {name}"
        reached.add((method, template, status))

    try:
        for write in WRITES:
            await check(write.method, write.template, write.status, AUTH, json=write.body, path=write.path)
        for (method, template), (_, op) in operations.items():
            await check(method, template, 401, {})
            if "requestBody" in op:
                as_json = {**AUTH, "Content-Type": "application/json"}
                await check(method, template, 413, as_json, data=b"[" + b" " * MAX_BODY + b"]")
                if "415" in op["responses"]:
                    await check(method, template, 415, AUTH, data=b"{}")
    finally:
        assert (await client.post("/_mock/reset")).status == 200
    documented = {
        (method, template, int(status))
        for (method, template), (_, op) in operations.items()
        for status in op["responses"]
    }
    assert reached == documented
