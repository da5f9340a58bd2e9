"""The fixture format's JSON Schema (`mockserver schema`) and the fixture validator agree: on every
fixture the project ships, tests with or shows in its pages, on the fixtures the property tests
generate, and on a misspelt key anywhere in them. Documents are read as an editor reads them
(YAML 1.2: an unquoted timestamp is a string)."""

from __future__ import annotations

import copy
import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import given
from jsonschema import Draft202012Validator

from mockserver.generation.fixture import parse_fixture
from mockserver.generation.schema import fixture_schema
from mockserver.world.spec import FixtureError
from tests.properties.strategies import WorldCase, worlds
from tests.support import FIXTURES, ROOT
from tests.test_cli import mockserver as run_cli

SCHEMA = fixture_schema()
VALIDATOR = Draft202012Validator(SCHEMA)
SHIPPED = sorted(FIXTURES.glob("*.yaml"))
PAGES = [ROOT / "README.md", *sorted(ROOT.glob("docs/*.md"))]
EXAMPLES = {
    **{path.name: path.read_text(encoding="utf-8") for path in SHIPPED},
    **{path.name: path.read_text(encoding="utf-8") for path in sorted(ROOT.glob("tests/*/fixtures/*.yaml"))},
    **{
        f"{page.name}[{index}]": block
        for page in PAGES
        for index, block in enumerate(
            re.findall(r"```yaml\n(.*?)```", page.read_text(encoding="utf-8"), re.S)
        )
    },
}
COMMENT = "# yaml-language-server: $schema=../docs/fixture.schema.json\n"


class _EditorLoader(yaml.SafeLoader):
    """YAML as editors read it: timestamps stay strings."""


_EditorLoader.yaml_implicit_resolvers = {
    first: [(tag, rx) for tag, rx in resolvers if tag != "tag:yaml.org,2002:timestamp"]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}


def read(text: str) -> Any:
    return yaml.load(text, Loader=_EditorLoader)


def validator_accepts(document: Any) -> bool:
    try:
        parse_fixture(yaml.safe_dump(document, sort_keys=False), "doc.yaml")
    except FixtureError:
        return False
    return True


def mappings(value: Any, where: str = "") -> Iterator[tuple[str, dict]]:
    """Every mapping in a document, with where it is."""
    if isinstance(value, dict):
        yield where, value
        for key, item in value.items():
            yield from mappings(item, f"{where}.{key}")
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from mappings(item, f"{where}[{index}]")


def test_mockserver_schema_prints_the_published_draft_2020_12_schema() -> None:
    done = run_cli("schema")
    assert done.returncode == 0, done.stderr
    printed = json.loads(done.stdout)
    assert printed == SCHEMA == json.loads((ROOT / "docs" / "fixture.schema.json").read_text())
    assert printed["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    Draft202012Validator.check_schema(printed)


def test_every_field_is_described_and_every_closed_object_refuses_unknown_keys() -> None:
    for where, node in mappings(SCHEMA):
        for name, field in node.get("properties", {}).items():
            assert field.get("description"), f"{where}.properties.{name}"
        if "properties" in node:
            assert node["additionalProperties"] is False, where


@pytest.mark.parametrize("path", SHIPPED, ids=lambda path: path.name)
def test_every_shipped_fixture_names_the_schema_for_editors(path: Path) -> None:
    assert path.read_text(encoding="utf-8").startswith(COMMENT)
    assert (path.parent / COMMENT.split("=")[1].strip()).resolve() == ROOT / "docs" / "fixture.schema.json"


@pytest.mark.parametrize("name", EXAMPLES)
def test_the_schema_accepts_every_fixture_the_validator_accepts(name: str) -> None:
    document = read(EXAMPLES[name])
    assert validator_accepts(document)
    assert not list(VALIDATOR.iter_errors(document))


@pytest.mark.parametrize("name", EXAMPLES)
def test_schema_and_validator_agree_on_a_misspelt_key_anywhere(name: str) -> None:
    """A key with its last letter doubled, added to each mapping in turn: both refuse it, or
    (in free-form mappings: custom fields, filters, a fault's headers and body) both accept it."""
    document = read(EXAMPLES[name])
    for where, mapping in list(mappings(document)):
        for key in list(mapping):
            typo = f"{key}{str(key)[-1]}"
            mapping[typo] = copy.deepcopy(mapping[key])
            schema_accepts = VALIDATOR.is_valid(document)
            assert schema_accepts == validator_accepts(document), f"{name}: {where}.{typo}"
            del mapping[typo]


def test_a_misspelt_key_is_refused_where_it_is() -> None:
    document = read(EXAMPLES["default.yaml"])
    document["generate"]["customer"] = 3
    (error,) = VALIDATOR.iter_errors(document)
    assert list(error.absolute_path) == ["generate"] and "'customer'" in error.message
    with pytest.raises(FixtureError, match=r"generate\.customer: unknown key"):
        parse_fixture(yaml.safe_dump(document), "doc.yaml")


@given(worlds())
def test_the_schema_accepts_the_worlds_the_property_tests_generate(case: WorldCase) -> None:
    document = yaml.load(case.text, Loader=_EditorLoader)
    assert not list(VALIDATOR.iter_errors(document))
