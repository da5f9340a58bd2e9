"""The house: each module imports only from its own floor or the floors below, and no two
files, nor two folders, import each other round a circle.

Floors, top-down (a module may import from its own floor and those under it):

- 4, the assembly: `cli`, `__main__`, `server` (wires the facades, the control plane and
  webhook delivery into the shell) and `testing/` (the pytest plugin, which runs a server
  process and signs webhooks like one);
- 3, what plugs into the shell: the facades `metronome/` and `meteroid/`, the control plane
  `control/`, webhook delivery `webhooks/`, and `inspector/` (the control plane's page);
- 2, the HTTP shell `shell/` (auth, CORS, errors, which world answers; it takes what plugs
  into it through `shell.plugs`, never by import);
- 1, `generation/` (a fixture file read and validated into the first world, its JSON Schema,
  export) and `progress` (the bar of a slow generation);
- 0, the ground floor `world/` (the fixture's data model, the world, its clock and invoices,
  its changes) and the package's own `__init__` (its version).

Imports inside functions and under `if TYPE_CHECKING:` count like any other. `bench/` stands
apart (it drives a server over HTTP): it must only be free of circles.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from itertools import pairwise
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
FLOORS = {
    "mockserver": 0,
    "mockserver.world": 0,
    "mockserver.generation": 1,
    "mockserver.progress": 1,
    "mockserver.shell": 2,
    "mockserver.metronome": 3,
    "mockserver.meteroid": 3,
    "mockserver.control": 3,
    "mockserver.webhooks": 3,
    "mockserver.inspector": 3,
    "mockserver.server": 4,
    "mockserver.cli": 4,
    "mockserver.__main__": 4,
    "mockserver.testing": 4,
}


def modules(package: str) -> dict[str, Path]:
    """Every module of a package by dotted name (a package by its own name)."""
    found = {}
    for path in sorted((ROOT / package).rglob("*.py")):
        parts = path.relative_to(ROOT).with_suffix("").parts
        found[".".join(parts[:-1] if parts[-1] == "__init__" else parts)] = path
    return found


def imported(name: str, path: Path, known: dict[str, Path]) -> Iterator[tuple[str, int]]:
    """The modules of `known` that module `name` imports, each with the line it does so on,
    wherever in the file the import stands."""
    package = name.split(".") if path.name == "__init__.py" else name.split(".")[:-1]
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            targets = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                base = ".".join(package[: len(package) - node.level + 1] + ([base] if base else []))
            targets = [
                f"{base}.{alias.name}" if f"{base}.{alias.name}" in known else base for alias in node.names
            ]
        else:
            continue
        for target in targets:
            while target and target not in known:  # `import a.b.c` of a name inside a.b
                target = target.rpartition(".")[0]
            if target and target != name:
                yield target, node.lineno


def edges(package: str) -> dict[tuple[str, str], str]:
    """Every import between two modules of a package, with where it stands (`file:line`)."""
    known = modules(package)
    found: dict[tuple[str, str], str] = {}
    for name, path in known.items():
        for target, line in imported(name, path, known):
            found.setdefault((name, target), f"{path.relative_to(ROOT)}:{line}")
    return found


def unit(name: str) -> str:
    """A module's folder (its top-level package below the root), or itself at the top."""
    return ".".join(name.split(".")[:2])


def floor(name: str) -> int:
    return FLOORS[unit(name)]


def cycle(graph: dict[str, set[str]]) -> list[str] | None:
    """One circle in a directed graph, as the nodes along it (first repeated last), if any."""
    state: dict[str, int] = {}  # 1: on the path being walked, 2: done
    path: list[str] = []

    def walk(node: str) -> list[str] | None:
        state[node] = 1
        path.append(node)
        for nxt in sorted(graph.get(node, ())):
            if state.get(nxt) == 1:
                return [*path[path.index(nxt) :], nxt]
            if nxt not in state and (found := walk(nxt)):
                return found
        path.pop()
        state[node] = 2
        return None

    for node in sorted(graph):
        if node not in state and (found := walk(node)):
            return found
    return None


def shown(circle: list[str], where: dict[tuple[str, str], str]) -> str:
    return (
        " -> ".join(circle) + "\n" + "\n".join(f"  {a} -> {b} at {where[a, b]}" for a, b in pairwise(circle))
    )


def test_every_folder_has_a_floor() -> None:
    assert {unit(name) for name in modules("mockserver")} == set(FLOORS)


def test_no_module_imports_from_a_floor_above_its_own() -> None:
    upward = [
        f"{where}: {a} (floor {floor(a)}) imports {b} (floor {floor(b)})"
        for (a, b), where in edges("mockserver").items()
        if floor(b) > floor(a)
    ]
    assert not upward, "imports from a floor above:\n" + "\n".join(upward)


@pytest.mark.parametrize("package", ["mockserver", "bench"])
def test_no_files_import_each_other_round_a_circle(package: str) -> None:
    where = edges(package)
    graph: dict[str, set[str]] = {}
    for a, b in where:
        graph.setdefault(a, set()).add(b)
    circle = cycle(graph)
    assert circle is None, "files in a circle: " + shown(circle, where)


def test_no_folders_import_each_other_round_a_circle() -> None:
    where: dict[tuple[str, str], str] = {}
    for (a, b), at in edges("mockserver").items():
        if unit(a) != unit(b):
            where.setdefault((unit(a), unit(b)), f"{at} ({a} -> {b})")
    graph: dict[str, set[str]] = {}
    for a, b in where:
        graph.setdefault(a, set()).add(b)
    circle = cycle(graph)
    assert circle is None, "folders in a circle: " + shown(circle, where)
