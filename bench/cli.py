"""Command line of `python -m bench`."""

from __future__ import annotations

import argparse
import shlex
import signal
import subprocess
import sys
from pathlib import Path

from bench.client import ClientError
from bench.generators import pick_generator
from bench.load import LoadError, LoadSettings
from bench.process import ServerError
from bench.runner import run_benchmark
from bench.scenarios import SCENARIOS


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m bench",
        description="Benchmark the mock server against a bare aiohttp server replaying "
        "the same bytes (the ceiling).",
    )
    parser.add_argument("--fixtures", metavar="PATH", help="fixture file (default: the package's default)")
    parser.add_argument("--connections", type=int, default=32, help="concurrent keep-alives")
    parser.add_argument("--duration", type=int, default=5, help="seconds measured per run")
    parser.add_argument("--warmup", type=int, default=1, help="seconds of unmeasured load first")
    parser.add_argument("--max-requests", type=int, default=1_000_000, help="request cap per measured run")
    parser.add_argument("--threads", type=int, default=1, help="wrk threads")
    parser.add_argument(
        "--rounds",
        type=int,
        default=1,
        help="measured runs per scenario and side, the mock and the ceiling taking turns; "
        "rounds are combined (rps over the total time, the median round's latencies)",
    )
    parser.add_argument("--workers", type=int, metavar="N", help="passed to `serve --workers`")
    parser.add_argument(
        "--scenarios",
        metavar="A,B",
        default=",".join(SCENARIOS),
        help=f"comma-separated subset of {','.join(SCENARIOS)}",
    )
    parser.add_argument(
        "--uncached",
        action="store_true",
        help="give every request a unique parameter the APIs ignore, so that nothing keyed by the "
        "request text can answer it (the ceiling drops the parameter)",
    )
    parser.add_argument(
        "--customer",
        default="most",
        help="Metronome customer: `most` (most invoices), `first`, or a customer id",
    )
    parser.add_argument(
        "--examine",
        type=int,
        default=200,
        metavar="N",
        help="`--customer most` counts the invoices of the first N customers listed (default 200): "
        "counting every customer of a large world would render all of it",
    )
    parser.add_argument("--json", type=Path, metavar="FILE", help="also write the results to this file")
    parser.add_argument("--load-generator", choices=("auto", "wrk", "builtin"), default="auto")
    parser.add_argument(
        "--server-cmd",
        help="command replacing `python -m mockserver serve`; --fixtures, --host, --port "
        "and --workers are appended",
    )
    parser.add_argument(
        "--server-args",
        default="",
        help="extra arguments appended to the server command; the mock is measured as it is "
        "(`default`, its access log written to a file) and with --quiet added",
    )
    parser.add_argument(
        "--changes",
        type=int,
        default=0,
        metavar="N",
        help="apply N changes (clock advances of --change-step) before the reads, and report changes/s",
    )
    parser.add_argument(
        "--change-step", default="PT1H", help="ISO 8601 duration of each advance (default PT1H)"
    )
    parser.add_argument(
        "--change-rate",
        type=float,
        default=0.0,
        metavar="PER_S",
        help="while the reads run, advance the clock by a minute this many times per second",
    )
    parser.add_argument(
        "--ingest-rate",
        type=float,
        default=0.0,
        metavar="EV_S",
        help="while the reads run, ingest this many usage events per second (batches of 100) for "
        "the Metronome customer whose invoices are read",
    )
    parser.add_argument("--startup-timeout", type=float, default=60.0)
    args = parser.parse_args(argv)
    args.selected = [name.strip() for name in args.scenarios.split(",") if name.strip()]
    unknown = sorted(set(args.selected) - set(SCENARIOS))
    if unknown or not args.selected:
        parser.error(f"--scenarios: unknown {unknown}; choose from {','.join(SCENARIOS)}")
    if args.changes < 0 or args.change_rate < 0 or args.ingest_rate < 0:
        parser.error("--changes, --change-rate and --ingest-rate must not be negative")
    for name in ("connections", "duration", "max_requests", "threads", "rounds", "examine"):
        if getattr(args, name) < 1:
            parser.error(f"--{name.replace('_', '-')} must be at least 1")
    if args.warmup < 0:
        parser.error("--warmup must not be negative")
    return args


def server_command(args: argparse.Namespace) -> list[str]:
    """The contract's command line: `serve --fixtures --host 127.0.0.1 --port 0 [--workers]`."""
    cmd = shlex.split(args.server_cmd) if args.server_cmd else [sys.executable, "-m", "mockserver"]
    cmd += [] if args.server_cmd else ["serve"]
    if args.fixtures:
        cmd += ["--fixtures", args.fixtures]
    cmd += ["--host", "127.0.0.1", "--port", "0"]
    if args.workers:
        cmd += ["--workers", str(args.workers)]
    return cmd + shlex.split(args.server_args)


def main(argv: list[str] | None = None) -> int:
    """Exit 0 when clean, 1 when errors were seen or scenarios skipped, 2 when it failed,
    130 when interrupted."""
    args = parse_args(argv)
    # Turn SIGTERM into SystemExit so the servers are stopped by the usual unwinding.
    signal.signal(signal.SIGTERM, lambda signum, frame: sys.exit(128 + signum))
    try:
        report = run_benchmark(
            server_cmd=server_command(args),
            fixtures=args.fixtures,
            workers=args.workers,
            selected=args.selected,
            customer=args.customer,
            examine=args.examine,
            settings=LoadSettings(
                connections=args.connections,
                duration=args.duration,
                warmup=args.warmup,
                max_requests=args.max_requests,
                threads=args.threads,
                rounds=args.rounds,
                uncached=args.uncached,
            ),
            generator=pick_generator(args.load_generator),
            startup_timeout=args.startup_timeout,
            changes=args.changes,
            change_step=args.change_step,
            change_rate=args.change_rate,
            ingest_rate=args.ingest_rate,
        )
    except (ServerError, LoadError, ClientError, subprocess.TimeoutExpired) as error:
        print(f"bench: {error}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130
    print(report.format_table())
    if args.json:
        report.write_json(args.json)
    return 0 if report.ok else 1
