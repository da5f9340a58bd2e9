"""`mockserver serve | generate | check`: the command line."""

from __future__ import annotations

import argparse
import logging
import os
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Sequence
from pathlib import Path

from mockserver.control.journal import DEFAULT_SIZE
from mockserver.generation.export import canonical_json
from mockserver.generation.fixture import DIALECTS, KINDS, STATUSES, Fixture, FixtureError, load_fixture
from mockserver.progress import log_line, terminal_progress
from mockserver.shell.app import Settings
from mockserver.world.log import FileLog, LogError
from mockserver.world.state import World
from mockserver.world.timeline import Timeline

_PROGRESS_FROM = 10_000  # invoices: below this, generation is too quick for a bar to help


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="mockserver",
        description="A deterministic local mock of billing providers' invoice APIs.",
    )
    commands = parser.add_subparsers(dest="command", required=True)

    serve = commands.add_parser("serve", help="serve both APIs over one generated world")
    serve.add_argument(
        "--fixtures",
        metavar="PATH",
        default=os.environ.get("MOCKSERVER_FIXTURES") or None,
        help="fixture file (default: $MOCKSERVER_FIXTURES, else the embedded default world)",
    )
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=8080, help="0 picks a free port (printed once ready)")
    serve.add_argument("--workers", type=int, default=1, help="processes sharing the port and the world")
    serve.add_argument(
        "--dialect", choices=DIALECTS, help="Meteroid spelling if a request names none (default: fixture's)"
    )
    serve.add_argument("--quiet", action="store_true", help="no per-request access log")
    serve.add_argument(
        "--journal-size",
        type=int,
        default=DEFAULT_SIZE,
        metavar="N",
        help=f"requests kept by the journal, GET /_mock/requests (default {DEFAULT_SIZE}; 0: off)",
    )
    serve.add_argument(
        "--changes",
        metavar="FILE",
        help="replay the changes in FILE (JSON lines, as GET /_mock/changes exports them) at start, "
        "then append every change accepted",
    )

    generate = commands.add_parser("generate", help="write the world as canonical JSON")
    generate.add_argument("path", metavar="PATH", help="fixture file")
    generate.add_argument("-o", "--output", default="-", metavar="FILE", help="output file, or - for stdout")

    check = commands.add_parser("check", help="validate a fixture and summarise its world")
    check.add_argument("path", metavar="PATH", help="fixture file")
    return parser


def _estimated_invoices(fixture: Fixture) -> int:
    generated = fixture.generated_customers * fixture.profile.months * fixture.profile.contracts
    return generated + sum(c.profile.months * len(c.contracts or "x") for c in fixture.customers)


def _load(path: str | None, warm: bool = False) -> World:
    """Validate, generate and, to serve, build every ordering; large worlds report progress."""
    fixture = load_fixture(path)
    large = _estimated_invoices(fixture) >= _PROGRESS_FROM
    started = time.monotonic()
    world = World.from_fixture(fixture, terminal_progress("generating") if large else None)
    generated = time.monotonic()
    message = (
        f"generated {len(world)} invoices of {len(world.customers)} customers in {generated - started:.1f} s"
    )
    if warm:
        world.warm(progress=terminal_progress("ordering", "orders") if large else None)
        message += f", ordered them in {time.monotonic() - generated:.1f} s"
    if large:
        log_line(message)
    return world


def _serve(args: argparse.Namespace) -> int:
    if args.workers < 1:
        raise SystemExit("mockserver serve: --workers must be at least 1")
    if args.journal_size < 0:
        raise SystemExit("mockserver serve: --journal-size must be 0 or more")
    world = _load(args.fixtures, warm=True)
    logging.basicConfig(level=logging.INFO, stream=sys.stderr, format="%(asctime)s %(name)s %(message)s")
    from mockserver.shell.server import serve

    with tempfile.TemporaryDirectory(prefix="mockserver-") as scratch:
        return serve(
            world,
            Settings.from_world(world, args.dialect, args.journal_size),
            args.host,
            args.port,
            args.workers,
            not args.quiet,
            timeline=_timeline(world, args.changes, args.workers, Path(scratch)),
        )


def _timeline(world: World, changes: str | None, workers: int, scratch: Path) -> Timeline:
    """The world's timeline: replayed from `changes` and appended to it, if given; shared
    through a file by several workers; else kept in memory."""
    if changes is not None:
        timeline = Timeline(world, FileLog(changes, shared=workers > 1))
        timeline.catch_up()
        return timeline
    if workers > 1:
        return Timeline(world, FileLog(scratch / "changes.jsonl", shared=True))
    return Timeline(world)


def _generate(args: argparse.Namespace) -> int:
    payload = canonical_json(_load(args.path))
    if args.output == "-":
        sys.stdout.buffer.write(payload)
        sys.stdout.flush()
    else:
        Path(args.output).write_bytes(payload)
    return 0


def _check(args: argparse.Namespace) -> int:
    world = _load(args.path)
    cols = world.cols
    print(f"{world.fixture.source}: ok, fixture {world.fixture.name!r}, seed {world.seed}")
    print(f"customers: {len(world.customers)} ({sum(1 for c in world.customers if c.archived_at)} archived)")
    print(f"contracts: {len(world.contracts)}")
    print(f"invoices:  {len(world)}")
    for title, column, names in (("status", cols.status, STATUSES), ("type", cols.kind, KINDS)):
        counts = Counter(names[code] for code in column)
        print(f"  by {title}: " + ", ".join(f"{name} {counts[name]}" for name in names if counts[name]))
    per_customer = Counter(cols.customer)
    print("  by customer:")
    for customer in world.customers:
        alias = f" ({customer.alias})" if customer.alias else ""
        print(f"    {customer.id}  {per_customer[customer.ordinal]:>5}  {customer.name}{alias}")
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    handlers = {"serve": _serve, "generate": _generate, "check": _check}
    try:
        return handlers[args.command](args)
    except FixtureError as exc:
        print(f"mockserver: invalid fixture: {exc}", file=sys.stderr)
        return 2
    except LogError as exc:
        print(f"mockserver: cannot replay the changes: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130
