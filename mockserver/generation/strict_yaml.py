"""YAML read strictly: a duplicate key is an error, only true and false are booleans, times
stay text (read by the validator), and every mapping and list keeps the line of each of its
keys and items (`world.spec.Located`) for errors to point at."""

from __future__ import annotations

import re

import yaml

from mockserver.world.spec import Located, LocatedList


class StrictLoader(yaml.SafeLoader):
    pass


def _construct_mapping(loader: StrictLoader, node: yaml.MappingNode) -> dict:
    seen = Located()
    seen.lines = {}
    for key_node, value_node in node.value:
        key = loader.construct_object(key_node, deep=True)
        line = key_node.start_mark.line + 1
        if key in seen:
            raise yaml.constructor.ConstructorError(None, None, f"duplicate key {key!r} (line {line})")
        seen[key] = loader.construct_object(value_node, deep=True)
        seen.lines[key] = line
    return seen


def _construct_sequence(loader: StrictLoader, node: yaml.SequenceNode) -> list:
    items = LocatedList(loader.construct_object(child, deep=True) for child in node.value)
    items.lines = [child.start_mark.line + 1 for child in node.value]
    return items


StrictLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_mapping)
StrictLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_SEQUENCE_TAG, _construct_sequence)
# Times stay text, read by the validator: YAML's own reading of `2026-02-30` fails with
# Python's words and no field; booleans are only true and false.
StrictLoader.yaml_implicit_resolvers = {
    first: [
        (tag, rx)
        for tag, rx in resolvers
        if tag not in ("tag:yaml.org,2002:bool", "tag:yaml.org,2002:timestamp")
    ]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}
StrictLoader.add_implicit_resolver(
    "tag:yaml.org,2002:bool", re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$"), list("tTfF")
)


def yaml_reason(exc: yaml.YAMLError) -> str:
    mark = getattr(exc, "problem_mark", None)
    problem = getattr(exc, "problem", None) or str(exc)
    return f"{problem} at line {mark.line + 1}, column {mark.column + 1}" if mark else problem
