"""One benchmark run: start the mock, discover, capture, start the ceiling, load both.

The mock runs in two configurations: `default`, as users run it (the access log on, written to
a file), and `quiet` (`--quiet`, no access log). All servers run for the whole run and are
loaded one after the other per scenario, so a drift of the machine affects every one alike.
Everything started here is stopped on the way out, whatever happened.
"""

from __future__ import annotations

import asyncio
import json
import sys
from contextlib import ExitStack
from dataclasses import replace
from pathlib import Path
from tempfile import TemporaryDirectory

from bench.changes import ChangeStream, apply_changes
from bench.client import AUTH_HEADERS, Client, ClientError
from bench.cpu import TreeCpu
from bench.load import LoadGenerator, LoadResult, LoadSettings, combine
from bench.memory import PeakMemory
from bench.process import PACKAGE_ROOT, ServerProcess
from bench.report import RunReport, ScenarioResult
from bench.responses import CapturedResponse, save_responses
from bench.scenarios import Scenario, plan_scenarios

HEALTH = "/_mock/health"
# Measured configurations: the arguments each adds to the server command.
CONFIGURATIONS = {"default": [], "quiet": ["--quiet"]}


def captures(scenarios: list[Scenario]) -> dict[str, CapturedResponse]:
    """Every captured target of every scenario, with the mock's response."""
    return {target: response for s in scenarios for target, response in s.captures.items()}


async def check_replay(name: str, base_url: str, scenarios: list[Scenario]) -> None:
    """Every server must serve exactly what the mock served first, or the ratios mean nothing."""
    async with Client(base_url) as client:
        for target, original in captures(scenarios).items():
            replayed = await client.fetch(target)
            if (replayed.status, replayed.content_type, replayed.body) != (
                original.status,
                original.content_type,
                original.body,
            ):
                raise ClientError(f"{name} does not replay {target} faithfully")


def start_mock(stack: ExitStack, name: str, cmd: list[str], workdir: Path) -> ServerProcess:
    """A mock server whose stderr, and so its access log, goes to a file in `workdir`."""
    progress(f"starting ({name}): {' '.join(cmd)}")
    return stack.enter_context(ServerProcess(f"mock server ({name})", cmd, stderr=workdir / f"{name}.log"))


def start_ceiling(
    stack: ExitStack, workdir: Path, scenarios: list[Scenario], workers: int | None, timeout: float
) -> ServerProcess:
    """Hand the captured responses to a ceiling process with as many workers as the mock."""
    responses = workdir / "responses.json"
    save_responses(responses, captures(scenarios))
    cmd = [sys.executable, "-m", "bench.ceiling", f"--responses={responses}"]
    cmd += ["--host=127.0.0.1", "--port=0", f"--workers={workers or 1}"]
    ceiling = stack.enter_context(ServerProcess("ceiling", cmd, PACKAGE_ROOT))
    ceiling.wait_ready(timeout)
    asyncio.run(check_replay("ceiling", ceiling.url, scenarios))
    return ceiling


def metered_run(
    generator: LoadGenerator, server: ServerProcess, targets: list[str], settings: LoadSettings
) -> LoadResult:
    """One run against `server`, with the CPU time its processes spent on the measured part and
    the minor page faults they took."""
    cpu = TreeCpu(server.pid)
    result = generator.run(server.url, targets, settings, cpu.meter)
    return replace(result, cpu_seconds=cpu.seconds, minor_faults=cpu.faults)


def progress(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def run_benchmark(
    *,
    server_cmd: list[str],
    fixtures: str | None,
    workers: int | None,
    selected: list[str],
    customer: str,
    examine: int,
    settings: LoadSettings,
    generator: LoadGenerator,
    startup_timeout: float,
    changes: int = 0,
    change_step: str = "PT1H",
    change_rate: float = 0.0,
    ingest_rate: float = 0.0,
) -> RunReport:
    """Run every selected scenario against the mock in each configuration and the ceiling, and
    collect the numbers. Startup and memory are the default configuration's, started alone."""
    commands = {name: server_cmd + extra for name, extra in CONFIGURATIONS.items()}
    with ExitStack() as stack:
        workdir = Path(stack.enter_context(TemporaryDirectory(prefix="bench-")))
        server = start_mock(stack, "default", commands["default"], workdir)
        memory = stack.enter_context(PeakMemory(server.pid))
        server.wait_ready(startup_timeout)
        startup_seconds, health = server.wait_healthy(HEALTH, AUTH_HEADERS, startup_timeout)
        memory.sample()
        ready_memory = memory.peak_mb, memory.peak_pss_mb
        progress(f"ready at {server.url} after {startup_seconds:.3f} s")
        burst = None
        if changes:
            progress(f"applying {changes} changes ({change_step} clock advances)")
            burst = apply_changes(server.url, changes, change_step)
            progress(burst.describe())
        progress("discovering scenarios")
        plan = asyncio.run(plan_scenarios(server.url, selected, customer, examine))
        quiet = start_mock(stack, "quiet", commands["quiet"], workdir)
        quiet.wait_ready(startup_timeout)
        if changes:  # the same changes give the same world: both configurations serve it
            apply_changes(quiet.url, changes, change_step)
        asyncio.run(check_replay("mock server (quiet)", quiet.url, plan.scenarios))
        mocks = {"default": server, "quiet": quiet}
        report = RunReport(
            load_generator=generator.name,
            load_generator_caveat=generator.caveat,
            fixtures=fixtures,
            server_commands=commands,
            workers=workers,
            settings=settings,
            ready_line_seconds=server.ready_seconds,
            startup_seconds=startup_seconds,
            ready_peak_rss_mb=ready_memory[0],
            ready_pss_mb=ready_memory[1],
            world=json.loads(health),
            choices=plan.choices,
            skipped=plan.skipped,
            changes=burst.describe() if burst else None,
        )
        streams: list[ChangeStream] = []
        if plan.scenarios:
            ceiling = start_ceiling(stack, workdir, plan.scenarios, workers, startup_timeout)
            streams += [
                stack.enter_context(ChangeStream.advances(mock.url, change_rate, "PT1M"))
                for mock in mocks.values()
                if change_rate
            ]
            reader = plan.choices.get("metronome", {}).get("customer_id")
            if ingest_rate and reader:
                now = json.loads(health)["now"]
                streams += [
                    stack.enter_context(ChangeStream.ingestion(mock.url, ingest_rate, reader, now))
                    for mock in mocks.values()
                ]
            for scenario in plan.scenarios:
                runs: dict[str, list[LoadResult]] = {name: [] for name in mocks}
                tops = []
                for index in range(settings.rounds):
                    turn = f" (round {index + 1}/{settings.rounds})" if settings.rounds > 1 else ""
                    for name, mock in mocks.items():
                        progress(f"{scenario.name}: loading the mock server ({name}){turn}")
                        runs[name].append(metered_run(generator, mock, scenario.targets, settings))
                    progress(f"{scenario.name}: loading the ceiling{turn}")
                    tops.append(metered_run(generator, ceiling, scenario.targets, settings))
                combined = {name: combine(results) for name, results in runs.items()}
                report.results.append(ScenarioResult(scenario, combined, combine(tops)))
        if streams:
            report.changes_during = "; ".join(stream.describe() for stream in streams)
        report.peak_rss_mb = memory.peak_mb
        report.peak_pss_mb = memory.peak_pss_mb
        report.server_processes = memory.processes
        return report
