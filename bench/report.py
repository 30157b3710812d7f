"""Figures: percentiles, the summary table (printed and written as Markdown), and the machine it ran on."""

import math
import os
import platform
import time
from dataclasses import dataclass, field
from pathlib import Path

import psycopg

RESULTS_DIR = Path(__file__).resolve().parent / "results"


def percentile(values: list[float], p: float) -> float:
    """Nearest-rank percentile: a value that was actually measured."""
    if not values:
        return math.nan
    ordered = sorted(values)
    return ordered[max(0, math.ceil(p / 100 * len(ordered)) - 1)]


def summary(values: list[float]) -> str:
    return (
        f"p50 {percentile(values, 50):.2f} ms · p95 {percentile(values, 95):.2f} ms · "
        f"p99 {percentile(values, 99):.2f} ms · max {max(values, default=math.nan):.2f} ms (n={len(values)})"
    )


@dataclass
class Row:
    """One line of the summary table.

    `op` reads "value op target": "<" for a latency, ">=" for a rate, "==" for a count that must be
    exact (overlaps: 0). `cost` is how many times the raw baseline beats the platform: platform/raw for
    a latency, raw/platform for a rate.
    """

    metric: str
    value: float | None
    unit: str
    target: float | None
    op: str = "<"
    baseline: float | None = None

    @property
    def cost(self) -> float | None:
        if not self.value or not self.baseline:
            return None
        return self.baseline / self.value if self.op == ">=" else self.value / self.baseline

    @property
    def passed(self) -> bool | None:
        if self.target is None or self.value is None:
            return None
        return {
            "<": self.value < self.target,
            ">=": self.value >= self.target,
            "==": self.value == self.target,
        }[self.op]

    def cells(self) -> list[str]:
        verdict = {True: "pass", False: "FAIL", None: "—"}[self.passed]
        shown_op = {"<": "<", ">=": "≥", "==": "="}[self.op]
        return [
            self.metric,
            "not measured" if self.value is None else _with_unit(self.value, self.unit),
            "—" if self.baseline is None else _with_unit(self.baseline, self.unit),
            "—" if self.cost is None else f"×{self.cost:.1f}",
            "—" if self.target is None else f"{shown_op} {_with_unit(self.target, self.unit)}",
            verdict,
        ]


HEADERS = ["metric", "value", "raw baseline", "cost vs raw", "target", "verdict"]


def _with_unit(value: float, unit: str) -> str:
    if value == int(value) and not unit:
        return f"{value:,.0f}"
    number = f"{value:,.0f}" if value >= 100 else f"{value:.1f}" if value >= 10 else f"{value:.2f}"
    return f"{number} {unit}".strip()


@dataclass
class Report:
    rows: list[Row] = field(default_factory=list)
    details: list[str] = field(default_factory=list)

    @property
    def correct(self) -> bool:
        """False when a correctness check (an exact count) failed; slow figures do not count."""
        return all(row.passed is not False for row in self.rows if row.op == "==")

    def add(self, row: Row, *details: str) -> None:
        self.rows.append(row)
        self.details.extend(f"{row.metric}: {line}" for line in details)

    def text_table(self) -> str:
        table = [HEADERS, *(row.cells() for row in self.rows)]
        widths = [max(len(line[i]) for line in table) for i in range(len(HEADERS))]
        lines = [
            "  ".join(cell.ljust(width) for cell, width in zip(line, widths, strict=True)) for line in table
        ]
        lines.insert(1, "  ".join("-" * width for width in widths))
        return "\n".join(lines)

    def markdown(self, machine: dict[str, str], context: dict[str, str]) -> str:
        out = ["# Lieux Communs — benchmark results", ""]
        out += [f"- **{key}**: {value}" for key, value in {**machine, **context}.items()]
        out += ["", "| " + " | ".join(HEADERS) + " |", "|" + "---|" * len(HEADERS)]
        out += ["| " + " | ".join(row.cells()) + " |" for row in self.rows]
        out += ["", "## Details", ""] + [f"- {line}" for line in self.details] + [""]
        return "\n".join(out)

    def write(self, machine: dict[str, str], context: dict[str, str], scale: float) -> list[Path]:
        RESULTS_DIR.mkdir(exist_ok=True)
        text = self.markdown(machine, context)
        stamped = RESULTS_DIR / f"{time.strftime('%Y%m%d-%H%M%S')}-scale{scale:g}.md"
        latest = RESULTS_DIR / "latest.md"
        for path in (stamped, latest):
            path.write_text(text, encoding="utf-8")
        return [latest, stamped]


def machine(url: str) -> dict[str, str]:
    cpu = "unknown"
    with open("/proc/cpuinfo", encoding="utf-8") as info:
        for line in info:
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    with open("/proc/meminfo", encoding="utf-8") as info:
        kib = next(int(line.split()[1]) for line in info if line.startswith("MemTotal"))
    with psycopg.connect(url, connect_timeout=5) as conn:
        version = conn.execute("SHOW server_version").fetchone()[0]
        settings = {
            name: conn.execute(f"SHOW {name}").fetchone()[0]
            for name in ("shared_buffers", "synchronous_commit", "max_connections")
        }
    import django

    return {
        "CPU": cpu,
        "cores": f"{os.cpu_count()} ({len(os.sched_getaffinity(0))} usable)",
        "RAM": f"{kib / 1024 / 1024:.1f} GiB",
        "PostgreSQL": f"{version} ({', '.join(f'{k}={v}' for k, v in settings.items())})",
        "Python / Django": f"{platform.python_version()} / {django.get_version()}",
        "date": time.strftime("%Y-%m-%d %H:%M %Z"),
    }
