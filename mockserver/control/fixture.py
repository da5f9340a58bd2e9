"""A running server's fixture, replaced: reading the body of `PUT /_mock/fixture` and building
the world of a fixture's text, within bounds.

Every worker (and every replica) builds the new world on its next request, so what a fixture
sent to a running server may ask for is bounded, each bound checked before the next step runs:
its bytes (MAX_BYTES), the values its YAML holds once aliases are expanded (MAX_VALUES: reading
is linear in them), and the customers and invoices its world would hold (MAX_CUSTOMERS,
MAX_INVOICES: generating is linear in them; a larger world is served with `--fixtures` instead,
loaded while health says so).
"""

from __future__ import annotations

import orjson
import yaml
from aiohttp import web

from mockserver.generation.fixture import Fixture, FixtureError, parse_fixture
from mockserver.world.changes import ChangeError
from mockserver.world.state import World

MAX_BYTES = 256 * 1024  # a fixture's text, YAML or JSON
MAX_VALUES = 100_000  # scalars, mappings and sequences, each alias counted as what it names
MAX_CUSTOMERS = 200  # generated and pinned: each costs about as much as 40 invoices
MAX_INVOICES = 10_000  # the invoices a world built while serving may hold, at most
SOURCE = "fixture"  # how check's lines name a fixture sent in a request (and its default name)
YAML_TYPES = ("application/yaml", "application/x-yaml", "text/yaml")
JSON_TYPE = "application/json"
NULL = "tag:yaml.org,2002:null"


class BodyRefused(Exception):
    """A body that is no fixture's text; `status` says which answer (400, 413 or 415)."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status


def estimated_invoices(fixture: Fixture) -> int:
    """The invoices the fixture's world holds at most: each contract's months, and those pinned."""
    generated = fixture.generated_customers * fixture.profile.months * fixture.profile.contracts
    pinned = sum(c.profile.months * len(c.contracts or "x") + len(c.invoices) for c in fixture.customers)
    return generated + pinned


async def read_text(request: web.Request) -> str:
    """The fixture a request carries, as text: YAML as sent; JSON (which YAML reads too)
    indented as `orjson` writes it, so that check's lines count in it. BodyRefused if none."""
    media = request.content_type
    if media not in (*YAML_TYPES, JSON_TYPE):
        raise BodyRefused(415, f"send the fixture as application/yaml or application/json, not {media}")
    length = request.content_length
    body = bytearray()
    if length is None or length <= MAX_BYTES:
        while len(body) <= MAX_BYTES and (chunk := await request.content.read(MAX_BYTES + 1 - len(body))):
            body += chunk
    if (length is not None and length > MAX_BYTES) or len(body) > MAX_BYTES:
        raise BodyRefused(413, f"a fixture sent to a running server is at most {MAX_BYTES} bytes")
    if not body.strip():
        raise BodyRefused(400, "the body is the fixture: send its YAML or JSON")
    if media == JSON_TYPE:
        try:
            value = orjson.loads(bytes(body))
        except orjson.JSONDecodeError as exc:
            raise BodyRefused(400, f"the body is not valid JSON: {exc}") from None
        return orjson.dumps(value, option=orjson.OPT_INDENT_2).decode()
    try:
        return bytes(body).decode("utf-8")
    except UnicodeDecodeError:
        raise BodyRefused(400, "the body is not UTF-8 text") from None


def world_of(text: str) -> World:
    """The world of a fixture's text, generated; ChangeError with `mockserver check`'s line
    if the text is no fixture, or names a world past the bounds."""
    try:
        _within_values(text)
        fixture = parse_fixture(text, SOURCE)
        customers = fixture.generated_customers + len(fixture.customers)
        if customers > MAX_CUSTOMERS:
            raise FixtureError(
                SOURCE,
                "",
                f"its world holds {customers} customers; a running server takes a fixture of at most "
                f"{MAX_CUSTOMERS} (serve a larger one with --fixtures)",
            )
        invoices = estimated_invoices(fixture)
        if invoices > MAX_INVOICES:
            raise FixtureError(
                SOURCE,
                "",
                f"its world holds up to {invoices} invoices; a running server takes a fixture of at "
                f"most {MAX_INVOICES} (serve a larger one with --fixtures)",
            )
        return World.from_fixture(fixture)
    except FixtureError as exc:
        raise ChangeError(f"invalid fixture: {exc}") from None
    except RecursionError:  # reading YAML recurses at each level
        raise ChangeError(f"invalid fixture: {SOURCE}: nests too deep to be read") from None


def _within_values(text: str) -> None:
    """FixtureError if the YAML holds more than MAX_VALUES values, aliases expanded (a few
    lines may otherwise name millions), or holds itself."""
    try:
        root = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.YAMLError:
        return  # the validator words it, with its line
    if root is None or root.tag == NULL:  # a file may be blank (the default world); a body is the fixture
        raise FixtureError(SOURCE, "", "expected a mapping (the fixture), got nothing")
    sizes: dict[int, int] = {}  # a node's values, once counted
    open_: set[int] = set()  # nodes whose values are being counted: the path from the root
    stack: list[tuple[yaml.Node, bool]] = [(root, False)]
    while stack:
        node, counted = stack.pop()
        children = _children(node)
        if counted:
            open_.discard(id(node))
            sizes[id(node)] = size = 1 + sum(sizes[id(child)] for child in children)
            if size > MAX_VALUES:
                raise FixtureError(
                    SOURCE, "", f"holds more than {MAX_VALUES} values (aliases counted as what they name)"
                )
        elif id(node) in open_:
            raise FixtureError(SOURCE, "", "an alias names a value that holds it")
        elif id(node) not in sizes:
            open_.add(id(node))
            stack.append((node, True))
            stack.extend((child, False) for child in children if id(child) not in sizes)


def _children(node: yaml.Node) -> list[yaml.Node]:
    if isinstance(node, yaml.MappingNode):
        return [part for pair in node.value for part in pair]
    if isinstance(node, yaml.SequenceNode):
        return list(node.value)
    return []
