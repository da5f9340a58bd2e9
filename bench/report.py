"""Benchmark results: a table for people and a JSON document for machines."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from bench.load import LoadResult, LoadSettings
from bench.scenarios import Scenario


@dataclass(frozen=True)
class ScenarioResult:
    """The mock in each configuration and the ceiling under the same load for the same bytes."""

    scenario: Scenario
    mocks: dict[str, LoadResult]  # by configuration: `default` (access log on), `quiet`
    ceiling: LoadResult

    def ratio(self, configuration: str) -> float:
        return self.mocks[configuration].rps / self.ceiling.rps if self.ceiling.rps else 0.0

    def cpu_ratio(self, configuration: str) -> float:
        """The ceiling's CPU time per request over the mock's: the ratio with the machine's
        other load taken out (1.0 = the mock costs no more than replaying bytes)."""
        mock, top = self.mocks[configuration].cpu_us_per_request, self.ceiling.cpu_us_per_request
        return top / mock if mock and top else 0.0

    @property
    def clean(self) -> bool:
        runs = (*self.mocks.values(), self.ceiling)
        return all(r.non_2xx == 0 and r.socket_errors == 0 and r.requests for r in runs)


@dataclass
class RunReport:
    load_generator: str
    load_generator_caveat: str
    fixtures: str | None
    server_commands: dict[str, list[str]]  # by configuration
    workers: int | None
    settings: LoadSettings
    ready_line_seconds: float
    startup_seconds: float
    ready_peak_rss_mb: float
    ready_pss_mb: float
    world: Any
    choices: dict[str, Any]
    skipped: dict[str, str]
    changes: str | None = None  # the burst of changes applied before the reads, described
    results: list[ScenarioResult] = field(default_factory=list)
    changes_during: str | None = None  # the changes streamed while the reads ran, described
    peak_rss_mb: float = 0.0
    peak_pss_mb: float = 0.0
    server_processes: int = 0

    @property
    def ok(self) -> bool:
        """No error responses, no socket errors, nothing that was asked for left out."""
        return not self.skipped and all(r.clean for r in self.results)

    def to_json(self) -> dict[str, Any]:
        def measured(run: LoadResult) -> dict[str, Any]:
            return {
                "rps": round(run.rps, 1),
                "cpu_us_per_request": round(run.cpu_us_per_request, 1),
                "faults_per_request": round(run.faults_per_request, 3),
                **asdict(run),
            }

        return {
            "ok": self.ok,
            "load_generator": self.load_generator,
            "load_generator_caveat": self.load_generator_caveat,
            "fixtures": self.fixtures,
            "server_commands": self.server_commands,
            "workers": self.workers,
            **{f"load_{key}": value for key, value in asdict(self.settings).items()},
            "ready_line_seconds": round(self.ready_line_seconds, 4),
            "startup_seconds": round(self.startup_seconds, 4),
            "ready_peak_rss_mb": round(self.ready_peak_rss_mb, 1),
            "ready_pss_mb": round(self.ready_pss_mb, 1),
            "peak_rss_mb": round(self.peak_rss_mb, 1),
            "peak_pss_mb": round(self.peak_pss_mb, 1),
            "server_processes": self.server_processes,
            "world": self.world,
            "changes_before": self.changes,
            "changes_during": self.changes_during,
            "choices": self.choices,
            "scenarios": {
                r.scenario.name: {
                    "target": r.scenario.target,
                    "targets": len(r.scenario.captures),
                    "content_type": r.scenario.content_type,
                    "response_bytes": r.scenario.mean_bytes,
                    **{
                        name: {
                            **measured(run),
                            "ratio_to_ceiling": round(r.ratio(name), 3),
                            "cpu_ratio_to_ceiling": round(r.cpu_ratio(name), 3),
                        }
                        for name, run in r.mocks.items()
                    },
                    "ceiling": measured(r.ceiling),
                }
                for r in self.results
            },
            "skipped": self.skipped,
        }

    def write_json(self, path: Path) -> None:
        path.write_text(json.dumps(self.to_json(), indent=2) + "\n")

    def format_table(self) -> str:
        s = self.settings
        caveat = self.load_generator_caveat
        lines = [
            f"load generator : {self.load_generator}" + (f" ({caveat})" if caveat else ""),
            f"fixtures       : {self.fixtures or '(package default)'}",
            f"workers        : {self.workers or '(server default)'}",
            f"load           : {s.connections} connections, {s.duration} s per run after "
            f"{s.warmup} s warm-up, at most {s.max_requests} requests"
            + (f", {s.rounds} alternating rounds per side" if s.rounds > 1 else "")
            + (", every request unique (--uncached)" if s.uncached else ""),
            f"startup        : (default) {self.startup_seconds:.3f} s from spawn to first 200 on "
            f"/_mock/health (ready line at {self.ready_line_seconds:.3f} s)",
            f"memory         : (default) when ready {self.ready_pss_mb:.1f} MB PSS (peak RSS so far "
            f"{self.ready_peak_rss_mb:.1f} MB); over the run, peak PSS {self.peak_pss_mb:.1f} MB, "
            f"peak RSS {self.peak_rss_mb:.1f} MB (sum over {self.server_processes} process(es))",
            f"world          : {describe_world(self.world)}",
            *([f"changes before : {self.changes}"] if self.changes else []),
            *([f"changes during : {self.changes_during}"] if self.changes_during else []),
            *(f"{family:<15}: {describe_world(chosen)}" for family, chosen in self.choices.items()),
            "",
        ]
        header = (
            f"{'scenario':<16} {'config':<7} {'bytes':>7} {'rps':>8} {'p50 ms':>7} {'p99 ms':>7} "
            f"{'non-2xx':>7} {'cpu us':>6} | {'ceil rps':>8} {'p50 ms':>7} {'p99 ms':>7} {'cpu us':>6} | "
            f"{'ratio':>5} {'cpu':>5}"
        )
        lines += [header, "-" * len(header)]
        for r in self.results:
            c = r.ceiling
            for name, m in r.mocks.items():
                flag = "" if r.clean else "  <-- ERRORS"
                flag += "  (request cap hit)" if m.capped or c.capped else ""
                lines.append(
                    f"{r.scenario.name:<16} {name:<7} {r.scenario.mean_bytes:>7} {m.rps:>8.0f} "
                    f"{m.p50_ms:>7.2f} {m.p99_ms:>7.2f} {m.non_2xx:>7} {m.cpu_us_per_request:>6.1f} | "
                    f"{c.rps:>8.0f} {c.p50_ms:>7.2f} {c.p99_ms:>7.2f} {c.cpu_us_per_request:>6.1f} | "
                    f"{r.ratio(name):>5.2f} {r.cpu_ratio(name):>5.2f}{flag}"
                )
        lines += [
            "config: default = `serve` as users run it, its access log written to a file; "
            "quiet = `serve --quiet`, no access log",
            "bytes: the response's (a rotation's mean); ratio: mock rps / ceiling rps; "
            "cpu: ceiling CPU time per request / mock's "
            "(server processes only, so the load generator and the rest of the machine are left out)",
        ]
        kept = [
            f"{r.scenario.name} {r.mocks['default'].rps / r.mocks['quiet'].rps:.2f}"
            for r in self.results
            if r.mocks["quiet"].rps
        ]
        if kept:
            lines.append("throughput kept with the access log (default rps / quiet rps): " + ", ".join(kept))
        faults = [
            f"{r.scenario.name} {name} {m.faults_per_request:.2f}"
            for r in self.results
            for name, m in (*r.mocks.items(), ("ceiling", r.ceiling))
        ]
        if faults:
            lines.append("minor page faults per request: " + ", ".join(faults))
        lines += [f"skipped {name}: {why}" for name, why in self.skipped.items()]
        if any(not r.clean for r in self.results):
            lines.append("ERRORS: non-2xx responses or socket errors; these numbers are not valid")
        return "\n".join(lines)


def describe_world(world: Any, prefix: str = "") -> str:
    """Flatten a JSON document into `key=value` pairs, nested keys dotted."""
    if isinstance(world, dict):
        parts = (describe_world(v, f"{prefix}{k}.") for k, v in world.items())
        return " ".join(p for p in parts if p)
    if isinstance(world, list):
        return f"{prefix.rstrip('.')}={','.join(map(str, world))}"
    return f"{prefix.rstrip('.')}={world}"
