"""Reading the served OpenAPI documents: the schema of one response, and wire values of parameters."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from jsonschema import Draft202012Validator
from referencing import Registry
from referencing.jsonschema import DRAFT202012

APIS = ("metronome", "meteroid", "control")
SHORT = Path(__file__).parent / "fixtures" / "short.yaml"


def _escape(part: str) -> str:
    return part.replace("~", "~0").replace("/", "~1")


def response_validator(
    doc: dict[str, Any], path: str, method: str, status: int, media: str = "application/json"
) -> Draft202012Validator:
    """A validator of one documented response body, its `$ref`s resolved in the document, formats
    (uuid, date-time, date) checked."""
    pointer = "/".join(
        _escape(part)
        for part in ("paths", path, method.lower(), "responses", str(status), "content", media, "schema")
    )
    registry = Registry().with_resource("urn:doc", DRAFT202012.create_resource(doc))
    return Draft202012Validator(
        {"$ref": f"urn:doc#/{pointer}"}, registry=registry, format_checker=Draft202012Validator.FORMAT_CHECKER
    )


def wire(value: Any) -> str:
    """A scalar as a query string or header carries it."""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)
