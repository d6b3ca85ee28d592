"""Run every benchmark, then write bench/RESULTS.md and bench/ratios.png.

bash scripts/bench.sh            (sets up, starts the daemons, runs this)
.venv/bin/python bench/run_all.py [--runs N] [--only NAME ...] [--context TEXT]

Each script's rows are kept in bench/.results/NAME.json (not committed), so `--only`
re-runs some scripts and RESULTS.md still shows the others' last figures, each section
with the time it was measured. bench/profiling.md (hand-written: what the profiles
showed) is appended to RESULTS.md.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import machine_description

BENCH = Path(__file__).resolve().parent
STORE = BENCH / ".results"
PROFILE_NOTES = BENCH / "profiling.md"
SCRIPTS = ("bench_fs", "bench_attach", "bench_gdb_big", "bench_listing", "bench_tui")


def stats_text(stats: dict | None) -> str:
    if not stats:
        return "n/a"
    scale, unit = (
        (1000, "ms") if stats["unit"] == "s" and stats["median"] < 1 else (1, stats["unit"])
    )
    low, high = stats["low"] * scale, stats["high"] * scale
    return f"{stats['median'] * scale:.1f} {unit} ({low:.1f}-{high:.1f})"


def ratio(row: dict) -> float | None:
    ours, base = row["ours"], row["baseline"]
    if not ours or not base or not base["median"]:
        return None
    return ours["median"] / base["median"]


def load_text() -> str:
    one, five, _ = os.getloadavg()
    return f"{one:.1f} (1 min) / {five:.1f} (5 min)"


def code_state() -> str:
    """The commit measured, and which product files differed from it (work in progress
    in the same checkout is measured too)."""

    def git(*args: str) -> str:
        return subprocess.run(
            ["git", *args], cwd=BENCH.parent, capture_output=True, text=True
        ).stdout.rstrip("\n")

    dirty = [line[3:] for line in git("status", "--porcelain", "cntr_tui").splitlines()]
    state = f"commit {git('rev-parse', '--short', 'HEAD') or '?'}"
    return state + (f" plus uncommitted changes to {', '.join(dirty)}" if dirty else "")


def target_text(row: dict) -> str:
    missed = row.get("missed")
    if not row["target"] or missed is None:
        return row["target"]
    return f"{row['target']} {'**missed**' if missed else 'met'}"


def misses(sections: list[dict]) -> list[str]:
    lines = []
    for section in sections:
        for row in section["rows"]:
            if row.get("missed"):
                lines.append(
                    f"- **{row['name']}**: {stats_text(row['ours'])} against "
                    f"{row['target']}. {row['note']}"
                )
    return lines


def markdown(sections: list[dict], failures: dict[str, str], context: str) -> str:
    lines = [
        "# Benchmark results",
        "",
        "Produced by `bench/run_all.py` (what `bash scripts/bench.sh` runs after its set-up) "
        f"on {machine_description()}.",
        "Every figure is the median of several runs (min-max in brackets); the baseline is "
        "measured in the same run on the same machine; ratio = ours / baseline (for times, "
        "lower is better).",
        "",
    ]
    if context:
        lines += [f"**Conditions:** {context}", ""]
    for section in sections:
        lines += [
            f"## {section['title']}",
            "",
            f"Measured {section.get('measured', '?')} with {section.get('runs', '?')} runs "
            f"on {section.get('code', '?')}; load average before: "
            f"{section.get('load_before', '?')}, after: {section.get('load_after', '?')}.",
            "",
            "| figure | ours | baseline | ratio | target | note |",
            "|---|---|---|---|---|---|",
        ]
        for row in section["rows"]:
            r = ratio(row)
            base = (
                f"{row['baseline_name']}: {stats_text(row['baseline'])}"
                if row["baseline"]
                else row["baseline_name"]
            )
            lines.append(
                f"| {row['name']} | {stats_text(row['ours'])} | {base} | "
                f"{f'{r:.2f}x' if r is not None else '-'} | {target_text(row)} | "
                f"{row['note']} |"
            )
        lines.append("")
    missed = misses(sections)
    lines += ["## Figures that miss their target, and why", ""]
    lines += missed or ["None."]
    lines.append("")
    if failures:
        lines += ["## Benchmarks that did not run", ""]
        lines += [f"- `{name}`: {why}" for name, why in failures.items()]
        lines.append("")
    if PROFILE_NOTES.exists():
        lines += [PROFILE_NOTES.read_text().rstrip(), ""]
    return "\n".join(lines)


def plot(sections: list[dict], path: Path) -> bool:
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        return False
    rows = [(row["name"], ratio(row), row.get("missed")) for s in sections for row in s["rows"]]
    rows = [(name, r, missed) for name, r, missed in rows if r is not None]
    if not rows:
        return False
    figure, axes = plt.subplots(figsize=(11, 0.3 * len(rows) + 1.5))
    colours = ["#c44e52" if missed else "#4c72b0" for _, _, missed in rows]
    axes.barh([name for name, _, _ in rows], [r for _, r, _ in rows], color=colours)
    axes.axvline(1.0, color="black", linewidth=0.8)
    axes.set_xscale("log")
    axes.set_xlabel("ours / baseline (log scale, lower is better; red: misses its target)")
    axes.invert_yaxis()
    figure.tight_layout()
    figure.savefig(path, dpi=110)
    return True


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--only", nargs="*", choices=SCRIPTS)
    parser.add_argument(
        "--context", default="", help="conditions of the run to state in RESULTS.md"
    )
    parser.add_argument(
        "--report-only", action="store_true", help="rewrite RESULTS.md from the kept rows"
    )
    args = parser.parse_args()
    failures: dict[str, str] = {}
    STORE.mkdir(exist_ok=True)
    for name in [] if args.report_only else args.only or SCRIPTS:
        script = BENCH / f"{name}.py"
        if not script.exists():
            failures[name] = "not written yet"
            continue
        out = STORE / f"{name}.json"
        out.unlink(missing_ok=True)
        before, code = load_text(), code_state()
        result = subprocess.run(
            [sys.executable, str(script), "--runs", str(args.runs), "--json", str(out)]
        )
        if result.returncode != 0 or not out.exists():
            failures[name] = f"exited with status {result.returncode}"
            continue
        section = json.loads(out.read_text())
        section |= {
            "measured": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
            "runs": args.runs,
            "load_before": before,
            "load_after": load_text(),
            "code": code,
        }
        out.write_text(json.dumps(section, indent=1))
    sections = [
        json.loads((STORE / f"{name}.json").read_text())
        for name in SCRIPTS
        if (STORE / f"{name}.json").exists() and name not in failures
    ]
    (BENCH / "RESULTS.md").write_text(markdown(sections, failures, args.context))
    plotted = plot(sections, BENCH / "ratios.png")
    print(f"wrote {BENCH / 'RESULTS.md'}" + (f" and {BENCH / 'ratios.png'}" if plotted else ""))
    return 0


if __name__ == "__main__":
    sys.exit(main())
