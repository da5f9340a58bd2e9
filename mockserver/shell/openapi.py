"""OpenAPI 3.1 documents assembled from descriptions kept beside what they describe.

Each API (the two facades and the control plane) keeps, next to its handlers, a tuple of
`Operation`s: its routes are built from that tuple by `routes`, so a route cannot be served
without its description, nor described without being served. Query parameters are `Param`
tables in the API's params module, built from the very constants its parsers enforce (ranges,
enums, defaults); response schemas sit in the API's `openapi` module, built from the spellings
its renderer uses. This module holds the shapes, a few schema helpers and the assembly.

Adding a route to an API: add its `Operation` to that API's tuple (its parameters, request
body, replies) and its handler to the mapping handed to `routes`, under the operation's id.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from aiohttp import web

from mockserver import __version__

Schema = dict[str, Any]
OPENAPI_VERSION = "3.1.0"
BEARER = "bearerAuth"

# Plain JSON Schema building blocks.
STRING: Schema = {"type": "string"}
INTEGER: Schema = {"type": "integer"}
NUMBER: Schema = {"type": "number"}
BOOLEAN: Schema = {"type": "boolean"}
UUID: Schema = {"type": "string", "format": "uuid"}
DATE: Schema = {"type": "string", "format": "date", "pattern": r"^\d{4}-\d{2}-\d{2}$"}
STRING_MAP: Schema = {"type": "object", "additionalProperties": {"type": "string"}}
TEXT: Schema = {"type": "string", "minLength": 1}
# More than white space: what a name must hold. White space as the server strips it (Python's),
# spelt out, since a JSON Schema pattern's \s is ECMAScript's, which differs in a few characters.
_SPACE = "\\t\\n\\x0b\\x0c\\r\\x1c-\\x1f \\x85\\xa0\\u1680\\u2000-\\u200a\\u2028\\u2029\\u202f\\u205f\\u3000"
FILLED: Schema = {"type": "string", "pattern": f"[^{_SPACE}]"}
OBJECT: Schema = {"type": "object"}


def padded(pattern: str) -> Schema:
    """A text matching `pattern` (anchors left out) or blank, with white space about it."""
    return {"type": "string", "pattern": f"^[{_SPACE}]*(?:{pattern})?[{_SPACE}]*$"}


def enum(values: Iterable[str], **extra: Any) -> Schema:
    """A string among `values` (repeats dropped, order kept: the order the API lists them in)."""
    return {"type": "string", "enum": list(dict.fromkeys(values)), **extra}


def nullable(schema: Schema) -> Schema:
    """`schema` or null: OpenAPI 3.1 has no `nullable` keyword."""
    return {"anyOf": [schema, {"type": "null"}]}


def array(items: Schema, **extra: Any) -> Schema:
    """A list of `items`."""
    return {"type": "array", "items": items, **extra}


def ref(name: str) -> Schema:
    """A schema of the document's components, so that each is written once."""
    return {"$ref": f"#/components/schemas/{name}"}


def closed(
    required: Mapping[str, Schema], optional: Mapping[str, Schema] | None = None, **extra: Any
) -> Schema:
    """An object with exactly these keys: every `required` one, any of the `optional` ones.
    Closed, because the documents describe what this server sends, key for key."""
    schema: Schema = {
        "type": "object",
        "properties": {**required, **(optional or {})},
        "required": list(required),
        "additionalProperties": False,
        **extra,
    }
    if not required:
        del schema["required"]
    return schema


def accepted(
    required: Mapping[str, Schema], optional: Mapping[str, Schema] | None = None, **extra: Any
) -> Schema:
    """A request body object: the keys the API reads, every `required` one among them. Open,
    because the APIs take and ignore the fields of their SDKs' bodies that are not emulated."""
    schema: Schema = {"type": "object", "properties": {**required, **(optional or {})}, **extra}
    if required:
        schema["required"] = list(required)
    return schema


@dataclass(frozen=True)
class Param:
    """One parameter as the API reads it: `where` is query, path or header."""

    name: str
    schema: Schema
    description: str
    where: str = "query"
    required: bool = False
    explode: bool | None = None  # arrays: repeated keys (True) or comma-joined (False)

    def with_default(self, value: Any) -> Param:
        """The same parameter with a default that depends on the server's settings."""
        return replace(self, schema={**self.schema, "default": value})

    def spec(self) -> Schema:
        """Its OpenAPI Parameter Object."""
        spec: Schema = {"name": self.name, "in": self.where, "description": self.description}
        if self.required or self.where == "path":
            spec["required"] = True
        if self.explode is not None:
            spec["style"], spec["explode"] = "form", self.explode
        spec["schema"] = self.schema
        return spec


def names(params: Iterable[Param]) -> frozenset[str]:
    """The names a parser reads: the same table the document is built from."""
    return frozenset(param.name for param in params)


@dataclass(frozen=True)
class Reply:
    """One documented answer: a status, its body per media type, and headers it carries."""

    status: int
    description: str
    content: Mapping[str, Schema] = field(default_factory=dict)
    headers: Mapping[str, Schema] = field(default_factory=dict)

    def spec(self) -> Schema:
        """Its OpenAPI Response Object."""
        spec: Schema = {"description": self.description}
        if self.headers:
            spec["headers"] = {
                name: {"schema": schema, "description": schema.get("description", name)}
                for name, schema in self.headers.items()
            }
        if self.content:
            spec["content"] = {media: {"schema": schema} for media, schema in self.content.items()}
        return spec


def json_reply(status: int, description: str, schema: Schema, **headers: Schema) -> Reply:
    """The usual reply: a JSON body."""
    return Reply(status, description, {"application/json": schema}, headers)


@dataclass(frozen=True)
class Operation:
    id: str
    method: str
    path: str
    summary: str
    description: str = ""
    params: Sequence[Param] = ()
    body: Schema | None = None
    body_required: bool = True
    body_media: Sequence[str] = ("application/json",)  # the types the body may be sent as
    replies: Sequence[Reply] = ()
    tag: str | None = None

    def spec(self, secured: bool) -> Schema:
        """Its OpenAPI Operation Object; an API that needs no token says so on each operation."""
        spec: Schema = {"operationId": self.id, "summary": self.summary}
        if self.description:
            spec["description"] = self.description
        if self.tag:
            spec["tags"] = [self.tag]
        if self.params:
            spec["parameters"] = [param.spec() for param in self.params]
        if self.body is not None:
            spec["requestBody"] = {
                "required": self.body_required,
                "content": {media: {"schema": self.body} for media in self.body_media},
            }
        spec["responses"] = {str(reply.status): reply.spec() for reply in self.replies}
        if not secured:
            spec["security"] = []
        return spec


def routes(api: str, operations: Sequence[Operation], handlers: Mapping[str, Any]) -> list[web.RouteDef]:
    """The routes of `operations`, in their order (the router tries them in it), each served by
    the handler under its id and named `<api>.<id>` (the name the journal and the fault rules
    know it by). A handler without an operation is an error: it would be served undocumented."""
    undescribed = set(handlers) - {op.id for op in operations}
    if undescribed:
        raise ValueError(f"handlers without an operation description: {', '.join(sorted(undescribed))}")
    made = []
    for op in operations:
        handler, name = handlers[op.id], f"{api}.{op.id}"
        if op.method == "GET":  # HEAD too, as aiohttp's `web.get` serves it
            made.append(web.get(op.path, handler, name=name))
        else:
            made.append(web.route(op.method, op.path, handler, name=name))
    return made


def document(
    title: str,
    description: str,
    operations: Sequence[Operation],
    schemas: Mapping[str, Schema],
    secured: bool = True,
) -> Schema:
    """The OpenAPI 3.1 document of one API, served relative to the server's own root."""
    paths: dict[str, Schema] = {}
    for op in operations:
        paths.setdefault(op.path, {})[op.method.lower()] = op.spec(secured)
    doc: Schema = {
        "openapi": OPENAPI_VERSION,
        "info": {"title": title, "version": __version__, "description": description},
        "servers": [{"url": "/", "description": "this server"}],
        "paths": paths,
        "components": {"schemas": dict(schemas)},
    }
    if secured:
        doc["components"]["securitySchemes"] = {
            BEARER: {
                "type": "http",
                "scheme": "bearer",
                "description": "Any non-empty token, unless the fixture lists tokens (`auth.tokens`).",
            }
        }
        doc["security"] = [{BEARER: []}]
    return doc
