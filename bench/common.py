"""Shared pieces of the benchmarks: repeated timing, rows with a same-run baseline and
their ratio, the printed table and the JSON the summary script collects."""

from __future__ import annotations

import json
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path

# The checkout's own command, not whatever `cntr-tui` is first on PATH.
CNTR_TUI = str(Path(sys.executable).parent / "cntr-tui")
PACKAGE_DIR = Path(__file__).resolve().parent.parent / "cntr_tui"


def compile_bytecode() -> None:
    """Write the package's .pyc files, as `pip install` does for an installed package.

    This machine sets PYTHONDONTWRITEBYTECODE=1, and the package is an editable
    checkout: without this, every command (and every attach helper, which is a Python
    process too) recompiles each module it imports, ~35 of them, 0.06-0.13 s.
    Python still reads .pyc files under that setting; an edited module is recompiled.
    """
    subprocess.run(
        [sys.executable, "-m", "compileall", "-q", str(PACKAGE_DIR)],
        check=True,
        capture_output=True,
    )


@dataclass(frozen=True)
class Stats:
    """Median, min and max of several runs, in `unit`."""

    median: float
    low: float
    high: float
    runs: int
    unit: str = "s"

    @classmethod
    def of(cls, samples: list[float], unit: str = "s") -> Stats:
        return cls(statistics.median(samples), min(samples), max(samples), len(samples), unit)

    def text(self) -> str:
        scale, suffix = (1000, "ms") if self.unit == "s" and self.median < 1 else (1, self.unit)
        return (
            f"{self.median * scale:.1f} {suffix} ({self.low * scale:.1f}-{self.high * scale:.1f})"
        )


@dataclass
class Row:
    """One figure of ours beside a baseline measured in the same run."""

    name: str
    ours: Stats | None
    baseline: Stats | None
    baseline_name: str
    target: str = ""
    note: str = ""
    extra: dict[str, Stats] = field(default_factory=dict)
    missed: bool | None = None  # None: no target, or no figure to judge

    def judge(
        self,
        target: str,
        reason: str,
        *,
        max_ratio: float | None = None,
        max_value: float | None = None,
    ) -> Row:
        """Give the row its target; when our median misses it, say so and why."""
        self.target = target
        if self.ours is None:
            return self
        ratio = self.ratio
        self.missed = (max_ratio is not None and ratio is not None and ratio > max_ratio) or (
            max_value is not None and self.ours.median > max_value
        )
        if self.missed:
            self.note = f"MISSES TARGET: {reason}" + (f"; {self.note}" if self.note else "")
        return self

    @property
    def ratio(self) -> float | None:
        if self.ours is None or self.baseline is None or self.baseline.median == 0:
            return None
        return self.ours.median / self.baseline.median


def repeat(measure: Callable[[], float], runs: int) -> Stats:
    """Call `measure` (which returns seconds) `runs` times."""
    return Stats.of([measure() for _ in range(runs)])


def wall_time(command: list[str], **kwargs: object) -> float:
    start = time.perf_counter()
    subprocess.run(command, check=True, capture_output=True, **kwargs)  # type: ignore[call-overload]
    return time.perf_counter() - start


def run_child(
    script: str | Path, *args: str, label: str = "child", timeout: float = 900.0, width: int = 300
) -> dict:
    """`script --child ARGS --json FILE` in an interpreter of its own (its RSS and
    imports are its own): the JSON it wrote, or {"error": ...} when it gave none within
    `timeout` s or failed (its last stderr line, cut to `width` characters)."""
    with tempfile.NamedTemporaryFile(suffix=".json") as out:
        command = [sys.executable, str(script), "--child", *args, "--json", out.name]
        try:
            result = subprocess.run(command, timeout=timeout, capture_output=True, text=True)
        except subprocess.TimeoutExpired:
            return {"error": f"{label}: no result within {timeout:.0f} s"}
        text = Path(out.name).read_text()
        if result.returncode != 0 or not text:
            last = (result.stderr or "").strip().splitlines()
            return {"error": f"{label} failed: {last[-1] if last else result.returncode}"[:width]}
        return json.loads(text)


def drop_caches() -> None:
    subprocess.run(["sync"], check=True)
    Path("/proc/sys/vm/drop_caches").write_text("3\n")


def machine_description() -> str:
    cpu = "unknown CPU"
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("model name"):
            cpu = line.split(":", 1)[1].strip()
            break
    cores = len(
        [ln for ln in Path("/proc/cpuinfo").read_text().splitlines() if ln.startswith("processor")]
    )
    memory_kib = int(Path("/proc/meminfo").read_text().split()[1])
    return (
        f"{cpu}, {cores} cores, {memory_kib / 2**20:.0f} GiB, Linux {platform.release()}, "
        f"Python {platform.python_version()}"
    )


def print_table(title: str, rows: list[Row]) -> None:
    headers = ("figure", "ours", "baseline", "ratio", "target", "note")
    body = [
        (
            row.name,
            row.ours.text() if row.ours else "n/a",
            f"{row.baseline_name}: {row.baseline.text()}" if row.baseline else row.baseline_name,
            f"{row.ratio:.2f}x" if row.ratio is not None else "-",
            row.target,
            row.note,
        )
        for row in rows
    ]
    widths = [max(len(str(cell)) for cell in column) for column in zip(headers, *body, strict=True)]
    print(f"\n## {title}\n")
    for line in (headers, tuple("-" * w for w in widths), *body):
        print("  ".join(str(cell).ljust(width) for cell, width in zip(line, widths, strict=True)))


def save_rows(path: Path, title: str, rows: list[Row]) -> None:
    path.write_text(json.dumps({"title": title, "rows": [asdict(r) for r in rows]}, indent=1))


def report(title: str, rows: list[Row], json_path: Path | None) -> int:
    """Print the table, write the JSON for run_all when asked; the script's exit status."""
    print_table(title, rows)
    if json_path:
        save_rows(json_path, title, rows)
    return 0
