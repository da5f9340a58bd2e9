"""Where a request's time goes: the default command sampled with py-spy under load.

`python -m bench.profile` starts `mockserver serve` as users run it (access log and journal on,
stderr to a file), discovers a scenario's targets like `python -m bench`, loads them with wrk
(or the built-in generator) while py-spy samples the server, and sorts every sample into the
stage of a request it fell in: the innermost frame that belongs to a stage decides. Shares are
of the server's busy samples; microseconds per request are that share of its measured CPU time
per request. The ceiling, replaying the same bytes, is sampled the same way after it: what the
HTTP stack and the sockets cost either way. py-spy is an optional extra
(`pip install -c constraints.txt '.[bench]'`): nothing else needs it.
"""

from __future__ import annotations

import argparse
import asyncio
import shlex
import shutil
import subprocess
import sys
from collections import Counter
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path
from tempfile import TemporaryDirectory

from bench.cpu import TreeCpu
from bench.generators import pick_generator
from bench.load import LoadSettings
from bench.process import ServerProcess
from bench.runner import start_ceiling, start_mock
from bench.scenarios import SCENARIOS, plan_scenarios

Places = tuple[tuple[str, str], ...]  # (path fragment, function name or "" for any)

# The server's own stages, then the stack's: a sample belongs to the innermost frame of the
# first group that has one (the query stage's call into aiohttp's `Request.query` is the query's).
OWN_STAGES: tuple[tuple[str, Places], ...] = (
    ("auth", (("mockserver/shell/bearer.py", ""), ("mockserver/shell/app.py", "authorized"))),
    ("isolation lookup", (("mockserver/shell/worlds.py", "of"),)),
    ("fault-rule check", (("mockserver/control/faults.py", ""),)),
    ("log freshness", (("mockserver/shell/worlds.py", "catch_up"), ("mockserver/world/log.py", ""))),
    ("journal entry", (("mockserver/control/journal.py", ""),)),
    ("access log", (("mockserver/shell/accesslog.py", ""),)),
    ("rendering", (("mockserver/metronome/render.py", ""), ("mockserver/meteroid/render.py", ""))),
    (
        "query (parse, plan, page)",
        (
            ("mockserver/metronome/params.py", ""),
            ("mockserver/meteroid/params.py", ""),
            ("mockserver/meteroid/view.py", ""),
            ("mockserver/shell/querystring.py", ""),
            ("mockserver/shell/cursor.py", ""),
            ("mockserver/world/", ""),
        ),
    ),
    (
        "response assembly",
        (("mockserver/shell/app.py", "json_response"), ("mockserver/shell/app.py", "_with_cors")),
    ),
    (
        "route handler and guard",
        (
            ("mockserver/shell/app.py", ""),
            ("mockserver/metronome/routes.py", ""),
            ("mockserver/meteroid/routes.py", ""),
        ),
    ),
)
STACK_STAGES: tuple[tuple[str, Places], ...] = (
    ("sending (socket writes)", (("asyncio/selector_events.py", "write"),)),
    ("response assembly", (("aiohttp/web_response.py", ""), ("aiohttp/http_writer.py", ""))),
    ("aiohttp: parsing, routing, protocol", (("aiohttp/", ""), ("multidict", ""), ("yarl", ""))),
    ("event loop, sockets", (("asyncio/", ""), ("selectors.py", ""))),
)
OTHER = "other"
STARTUP_TIMEOUT = 60.0
STAGE_NAMES = tuple(dict.fromkeys(name for name, _ in (*OWN_STAGES, *STACK_STAGES)))


def stage_of(stack: list[str]) -> str:
    """The stage of the innermost frame in one (frames: `function (file:line)`)."""
    for stages in (OWN_STAGES, STACK_STAGES):
        for frame in reversed(stack):
            function, _, where = frame.rpartition(" (")
            function = function.rpartition(".")[2]
            for stage, places in stages:
                if any(fragment in where and name in ("", function) for fragment, name in places):
                    return stage
    return OTHER


def tally(raw: str) -> Counter[str]:
    """Samples per stage from py-spy's raw output (`frame;frame;... count` a line)."""
    samples: Counter[str] = Counter()
    for line in raw.splitlines():
        stack, _, count = line.rpartition(" ")
        if stack:
            samples[stage_of(stack.split(";"))] += int(count)
    return samples


def py_spy() -> str:
    """py-spy beside this interpreter (a virtualenv's bin), else on PATH."""
    beside = Path(sys.executable).with_name("py-spy")
    found = str(beside) if beside.exists() else shutil.which("py-spy")
    if found is None:
        sys.exit("bench.profile: py-spy not found (pip install -c constraints.txt '.[bench]')")
    return found


@dataclass(frozen=True)
class Profile:
    """One server's samples by stage over a load run, and its CPU time per request."""

    samples: Counter[str]
    cpu_us: float
    requests: int
    rps: float

    def us(self, stage: str) -> float:
        """The stage's share of the samples, as microseconds of CPU per request."""
        total = sum(self.samples.values())
        return self.samples[stage] / total * self.cpu_us if total else 0.0


def profile(
    server: ServerProcess, targets: list[str], settings: LoadSettings, args: argparse.Namespace, raw: Path
) -> Profile:
    """Load `server` with `targets` while py-spy samples it (the measured part only)."""
    cpu = TreeCpu(server.pid)

    @contextmanager
    def sampled() -> Iterator[None]:
        spy = [args.py_spy, "record", "--pid", str(server.pid), "--format", "raw", "--rate", str(args.rate)]
        spy += ["--duration", str(args.duration), "--output", str(raw)]
        with cpu.meter(), subprocess.Popen(spy, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL):
            yield

    result = pick_generator(args.load_generator).run(server.url, targets, settings, sampled)
    return Profile(tally(raw.read_text()), 1e6 * cpu.seconds / result.requests, result.requests, result.rps)


def format_table(mock: Profile, ceiling: Profile) -> str:
    total = sum(mock.samples.values())
    lines = [
        "| stage | share | µs/request | ceiling µs/request |",
        "|---|---:|---:|---:|",
        *(
            f"| {stage} | {100 * mock.samples[stage] / total:.1f} % | {mock.us(stage):.1f} | "
            f"{ceiling.us(stage):.1f} |"
            for stage in (*STAGE_NAMES, OTHER)
        ),
        f"| **all** | 100 % | {mock.cpu_us:.1f} | {ceiling.cpu_us:.1f} |",
    ]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.profile", description=__doc__)
    parser.add_argument("--scenario", choices=SCENARIOS, default="metronome_list")
    parser.add_argument("--duration", type=int, default=10, help="seconds sampled under load, per server")
    parser.add_argument("--rate", type=int, default=250, help="py-spy samples per second")
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--load-generator", choices=("auto", "wrk", "builtin"), default="auto")
    parser.add_argument("--server-args", default="", help="extra arguments to `mockserver serve`")
    parser.add_argument(
        "--samples",
        type=Path,
        metavar="DIR",
        help="keep py-spy's stacks here (mock.txt, ceiling.txt: flamegraph.pl input)",
    )
    args = parser.parse_args(argv)
    args.py_spy = py_spy()  # found before anything starts
    cmd = [sys.executable, "-m", "mockserver", "serve", "--host", "127.0.0.1", "--port", "0"]
    cmd += shlex.split(args.server_args)
    settings = LoadSettings(args.connections, args.duration, 1, 10**9, 1)
    with ExitStack() as stack:
        workdir = Path(stack.enter_context(TemporaryDirectory(prefix="bench-profile-")))
        server = start_mock(stack, "default", cmd, workdir)
        server.wait_ready(STARTUP_TIMEOUT)
        plan = asyncio.run(plan_scenarios(server.url, [args.scenario], "most"))
        if not plan.scenarios:
            sys.exit(f"bench.profile: {args.scenario} skipped: {plan.skipped}")
        ceiling = start_ceiling(stack, workdir, plan.scenarios, 1, STARTUP_TIMEOUT)
        targets, kept = plan.scenarios[0].targets, args.samples or workdir
        kept.mkdir(parents=True, exist_ok=True)
        mock = profile(server, targets, settings, args, kept / "mock.txt")
        top = profile(ceiling, targets, settings, args, kept / "ceiling.txt")
    print(f"{args.scenario}: {mock.rps:.0f} rps ({mock.requests} requests), ceiling {top.rps:.0f} rps")
    print(format_table(mock, top))


if __name__ == "__main__":
    main()
