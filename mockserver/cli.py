"""`mockserver serve | generate | check | schema`: the command line."""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import math
import os
import signal
import sys
import time
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import replace
from importlib import metadata
from pathlib import Path
from typing import Any, NoReturn

from mockserver.control.fixture import estimated_invoices, world_of
from mockserver.generation.export import canonical_json
from mockserver.generation.fixture import load_fixture
from mockserver.generation.schema import fixture_schema
from mockserver.progress import log_line, terminal_progress
from mockserver.shell.accesslog import FORMATS, write_all
from mockserver.shell.allocator import return_large_frees
from mockserver.shell.app import Settings
from mockserver.shell.loading import Loading, load_while_serving, loading_app
from mockserver.shell.pages import BUDGET, MIB, pages
from mockserver.shell.plugs import DEFAULT_LIMIT, DEFAULT_SIZE
from mockserver.shell.ports import PortError, listen
from mockserver.shell.scratch import scratch_directory
from mockserver.shell.worlds import redis_branches
from mockserver.world.generator import Progress
from mockserver.world.ids import to_base62_id
from mockserver.world.log import FSYNC, FileLog, LogError
from mockserver.world.redislog import TOKEN_TTL, Redis, RedisLog, is_redis
from mockserver.world.snapshot import Snapshots, fingerprint
from mockserver.world.spec import DIALECTS, ISOLATIONS, KINDS, STATUSES, Fixture, FixtureError
from mockserver.world.state import World
from mockserver.world.timeline import Timeline

_PROGRESS_FROM = 10_000  # invoices: below this, generation is too quick for a bar to help
_CLOSED_PIPE = 141  # the status of a process ended by SIGPIPE, as shells report it


class _Parser(argparse.ArgumentParser):
    """A command-line mistake is one line on stderr (and status 2), not the usage text too."""

    def error(self, message: str) -> NoReturn:
        self.exit(2, f"{self.prog}: {message} (see {self.prog} --help)\n")


class _Version(argparse.Action):
    """`--version`, read from the installed package's metadata only when asked for."""

    def __init__(self, option_strings: Sequence[str], dest: str, **kwargs: Any) -> None:
        super().__init__(option_strings, dest, nargs=0, default=argparse.SUPPRESS, help="print the version")

    def __call__(self, parser: argparse.ArgumentParser, *_args: Any) -> None:
        print(f"mockserver {metadata.version('mockserver')}")
        parser.exit()


def _port(text: str) -> int:
    port = int(text) if text.isdigit() else -1
    if not 0 <= port <= 65535:
        raise argparse.ArgumentTypeError(f"{text!r} is not a port number (0-65535; 0 picks a free one)")
    return port


def _parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="mockserver",
        description="A deterministic local mock of billing providers' invoice APIs.",
    )
    parser.add_argument("--version", action=_Version)
    commands = parser.add_subparsers(dest="command", required=True)

    serve = commands.add_parser("serve", help="serve both APIs over one generated world")
    serve.add_argument(
        "--fixtures",
        metavar="PATH",
        default=os.environ.get("MOCKSERVER_FIXTURES") or None,
        help="fixture file (default: $MOCKSERVER_FIXTURES, else the embedded default world)",
    )
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument(
        "--port", type=_port, default=8080, help="0 picks a free port (printed once bound, and once ready)"
    )
    serve.add_argument("--workers", type=int, default=1, help="processes sharing the port and the world")
    serve.add_argument(
        "--dialect", choices=DIALECTS, help="Meteroid spelling if a request names none (default: fixture's)"
    )
    serve.add_argument("--quiet", action="store_true", help="no per-request access log")
    serve.add_argument(
        "--log-format",
        choices=FORMATS,
        default="text",
        help="access log lines: text, or one JSON object each",
    )
    serve.add_argument(
        "--journal-size",
        type=int,
        default=DEFAULT_SIZE,
        metavar="N",
        help=f"requests kept by the journal, GET /_mock/requests (default {DEFAULT_SIZE}; 0: off)",
    )
    serve.add_argument(
        "--page-memory",
        type=int,
        default=BUDGET // MIB,
        metavar="MIB",
        help=f"MiB of list pages each process keeps to answer a query asked again before the world "
        f"changes (default {BUDGET // MIB}; 0: every page made anew)",
    )
    serve.add_argument(
        "--changes",
        metavar="FILE|URL",
        help="replay the changes in FILE (JSON lines, as GET /_mock/changes exports them) at start, "
        "then append every change accepted; or redis://[:password@]host:port/db[?key=NAME] "
        "(rediss:// too): a Redis Stream every server pointed at it shares, one world for all",
    )
    serve.add_argument(
        "--fsync",
        choices=FSYNC,
        default="no",
        help="with --changes: no (default; an acknowledged change survives the process being killed), "
        "batch (and a power loss: the file flushed to disk before answering, one flush for the "
        "changes waiting), always (a flush per change)",
    )
    serve.add_argument(
        "--isolate",
        choices=ISOLATIONS,
        help="token: a world of its own per bearer token, branched from the fixture's on first use "
        "(default: the fixture's 'isolation', else none)",
    )
    serve.add_argument(
        "--isolate-limit",
        type=int,
        default=DEFAULT_LIMIT,
        metavar="N",
        help=f"under isolation, the worlds kept in memory, the least recently used dropped "
        f"(default {DEFAULT_LIMIT})",
    )
    serve.add_argument(
        "--token-ttl",
        type=float,
        metavar="SECONDS",
        help=f"under isolation on Redis, a token's world (its stream) is forgotten once no request "
        f"used it for this long, and starts again from the fixture (default {TOKEN_TTL:g}, a day; "
        "0: never)",
    )
    serve.add_argument(
        "--control-token",
        metavar="SECRET",
        help="every /_mock write (reset, clock, faults, clearing the journal) must carry the header "
        "Mock-Control-Token: SECRET, else 401; for a shared server (default: the fixture's "
        "auth.control_token, else none)",
    )

    generate = commands.add_parser("generate", help="write the world as canonical JSON")
    generate.add_argument("path", metavar="PATH", help="fixture file")
    generate.add_argument("-o", "--output", default="-", metavar="FILE", help="output file, or - for stdout")

    check = commands.add_parser("check", help="validate a fixture and summarise its world")
    check.add_argument("path", metavar="PATH", help="fixture file")

    commands.add_parser("schema", help="print the fixture format as a JSON Schema, for editors")
    return parser


def _build(fixture: Fixture, warm: bool = False, loading: Loading | None = None) -> World:
    """Generate and, to serve, build every ordering; large worlds report progress, and a
    world being served reports it to `loading` too."""
    large = estimated_invoices(fixture) >= _PROGRESS_FROM
    started = time.monotonic()
    world = World.from_fixture(fixture, _progress("generating", "customers", large, loading))
    generated = time.monotonic()
    message = (
        f"generated {len(world)} invoices of {len(world.customers)} customers in {generated - started:.1f} s"
    )
    if warm:
        world.warm(progress=_progress("ordering", "orders", large, loading))
        message += f", ordered them in {time.monotonic() - generated:.1f} s"
    if large:
        log_line(message)
    return world


def _progress(label: str, unit: str, large: bool, loading: Loading | None) -> Progress | None:
    """A bar for a person at a terminal (large worlds only), and the counts health reports."""
    bar = terminal_progress(label, unit) if large else None
    if loading is None:
        return bar
    advance = loading.progress(label, unit)
    if bar is None:
        return advance

    def both(done: int, total: int) -> None:
        bar(done, total)
        advance(done, total)

    return both


def _serve(args: argparse.Namespace) -> int:
    if args.workers < 1:
        raise SystemExit("mockserver serve: --workers must be at least 1")
    if args.journal_size < 0:
        raise SystemExit("mockserver serve: --journal-size must be 0 or more")
    if args.page_memory < 0:
        raise SystemExit("mockserver serve: --page-memory must be 0 or more MiB")
    if args.control_token == "":
        raise SystemExit("mockserver serve: --control-token must not be empty")
    if args.isolate_limit < 1:
        raise SystemExit("mockserver serve: --isolate-limit must be at least 1")
    redis = args.changes is not None and is_redis(args.changes)
    if args.token_ttl is not None and not redis:
        raise SystemExit(
            "mockserver serve: --token-ttl is for token worlds on Redis: "
            "without it they last as long as the server"
        )
    if args.token_ttl is not None and not 0 <= args.token_ttl < math.inf:
        raise SystemExit("mockserver serve: --token-ttl must be 0 (never) or more seconds")
    if args.fsync != "no" and redis:
        raise SystemExit("mockserver serve: --fsync is for a log file: Redis flushes as its appendfsync says")
    if args.fsync != "no" and args.changes is None:
        raise SystemExit(
            "mockserver serve: --fsync needs --changes FILE: without it no change outlives the server"
        )
    fixture = load_fixture(args.fixtures)
    isolation = (
        fixture.isolation if args.isolate is None else None if args.isolate == "none" else args.isolate
    )
    if isolation is not None and args.changes is not None and not redis:
        raise SystemExit(
            "mockserver serve: --changes cannot be used with token isolation: "
            "each token's world keeps its own log"
        )
    logging.basicConfig(level=logging.INFO, stream=sys.stderr, format="%(asctime)s %(name)s %(message)s")
    from mockserver.server import facades, serve

    listener = listen(args.host, args.port, args.workers)
    print(f"listening {listener.url}", flush=True)
    log_format = None if args.quiet else args.log_format
    loading = Loading(fixture)
    # A full file (ulimit -f) is a write that fails, refused with 503, not a signal that kills.
    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
    return_large_frees()
    pages.budget = args.page_memory * MIB
    with scratch_directory() as scratch:

        def build() -> Timeline:
            """The world, and its changes replayed: all of it while health says loading."""
            return _timeline(
                lambda: _build(fixture, warm=True, loading=loading),
                fixture,
                args.changes,
                args.workers,
                scratch,
                args.fsync,
            )

        timeline = load_while_serving(listener.sock, loading_app(loading, facades()), build, log_format)
        world = timeline.world
        settings = replace(
            Settings.from_world(
                world, dialect=args.dialect, journal_size=args.journal_size, control_token=args.control_token
            ),
            isolation=isolation,
            worlds=args.isolate_limit,
        )
        ttl = TOKEN_TTL if args.token_ttl is None else args.token_ttl
        logs = redis_branches(timeline.log, ttl) if isinstance(timeline.log, RedisLog) else scratch
        return serve(world, settings, listener, args.workers, log_format, timeline=timeline, logs=logs)


def _timeline(
    generate: Callable[[], World],
    fixture: Fixture,
    changes: str | None,
    workers: int,
    scratch: Path,
    fsync: str,
) -> Timeline:
    """The world's timeline: with `changes`, its snapshot's world (else the fixture's,
    generated) with the rest of the file replayed, appended to from then on; shared through a
    file by several workers; else a file of this process's own. With a Redis URL, the
    fixture's world and the stream's changes, the fixture checked first."""
    if changes is not None and is_redis(changes):
        redis = Redis(changes, scratch if workers > 1 else None)
        return asyncio.run(_redis_timeline(redis, fingerprint(fixture), generate))
    if changes is None:
        log = FileLog(scratch / "changes.jsonl", shared=True) if workers > 1 else FileLog()
        return Timeline(generate(), log, build=world_of)
    log = FileLog(changes, shared=workers > 1, fsync=fsync)
    snapshots = Snapshots(changes)
    world = snapshots.read(fixture, log.resume)
    if world is None:
        world = generate()
    timeline = Timeline(world, log, snapshots, world_of)
    asyncio.run(timeline.catch_up())
    mark = log.mark()
    if snapshots.due(mark.offset):  # a long replay is not made again at the next start
        snapshots.write(world, mark)
    return timeline


async def _redis_timeline(redis: Redis, fixture: str, generate: Callable[[], World]) -> Timeline:
    """The fixture's world with the stream's changes, once the stream's fixture is checked (in
    a loop of the start's own: its connections are closed with it)."""
    try:
        await redis.claim(fixture)
        timeline = Timeline(generate(), RedisLog(redis), build=world_of)
        await timeline.catch_up()
        return timeline
    finally:
        await redis.close()


def _generate(args: argparse.Namespace) -> int:
    payload = canonical_json(_build(load_fixture(args.path)))
    if args.output == "-":
        sys.stdout.flush()
        write_all(sys.stdout.fileno(), payload)
    else:
        Path(args.output).write_bytes(payload)
    return 0


def _check(args: argparse.Namespace) -> int:
    world = _build(load_fixture(args.path))
    cols = world.cols
    print(f"{world.fixture.source}: ok, fixture {world.fixture.name!r}, seed {world.seed}")
    print(f"customers: {len(world.customers)} ({sum(1 for c in world.customers if c.archived_at)} archived)")
    print(f"contracts: {len(world.contracts)}")
    print(f"invoices:  {len(world)}")
    for title, column, names in (("status", cols.status, STATUSES), ("type", cols.kind, KINDS)):
        counts = Counter(names[code] for code in column)
        print(f"  by {title}: " + ", ".join(f"{name} {counts[name]}" for name in names if counts[name]))
    per_customer = Counter(cols.customer)
    print("  by customer (Metronome id, Meteroid id, invoices, name):")
    for customer in world.customers:
        alias = f" ({customer.alias})" if customer.alias else ""
        ids = f"{customer.id}  {to_base62_id('cus_', customer.id):<26}"
        print(f"    {ids}  {per_customer[customer.ordinal]:>5}  {customer.name}{alias}")
    return 0


def _schema(args: argparse.Namespace) -> int:
    print(json.dumps(fixture_schema(), indent=2))
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    handlers = {"serve": _serve, "generate": _generate, "check": _check, "schema": _schema}
    try:
        return handlers[args.command](args)
    except FixtureError as exc:
        print(f"mockserver: invalid fixture: {exc}", file=sys.stderr)
        return 2
    except LogError as exc:
        print(f"mockserver: cannot replay the changes: {exc}", file=sys.stderr)
        return 2
    except PortError as exc:
        print(exc, file=sys.stderr)
        return 2
    except BrokenPipeError:
        # The reader stopped reading (`| head`). Stdout goes nowhere from here on, so that the
        # interpreter's own last flush of it does not fail again on the way out.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        print("mockserver: output closed by its reader before the end", file=sys.stderr)
        return _CLOSED_PIPE
    except OSError as exc:
        where = f"{exc.filename}: " if exc.filename else ""
        print(f"mockserver: {where}{exc.strerror}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130
