"""Run every benchmark, then write bench/RESULTS.md and bench/ratios.png.

bash scripts/bench.sh            (sets up, starts the daemons, runs this)
.venv/bin/python bench/run_all.py [--runs N] [--only NAME ...]
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import machine_description

BENCH = Path(__file__).resolve().parent
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


def markdown(sections: list[dict], failures: dict[str, str]) -> str:
    lines = [
        "# Benchmark results",
        "",
        f"Produced by `bash scripts/bench.sh` on {time.strftime('%Y-%m-%d')}: "
        f"{machine_description()}.",
        "Every figure is the median of several runs (min-max in brackets); the baseline is "
        "measured in the same run on the same machine; ratio = ours / baseline.",
        "",
    ]
    for section in sections:
        lines += [
            f"## {section['title']}",
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
                f"{f'{r:.2f}x' if r is not None else '-'} | {row['target']} | {row['note']} |"
            )
        lines.append("")
    if failures:
        lines += ["## Benchmarks that did not run", ""]
        lines += [f"- `{name}`: {why}" for name, why in failures.items()]
        lines.append("")
    return "\n".join(lines)


def plot(sections: list[dict], path: Path) -> bool:
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        return False
    rows = [(row["name"], ratio(row)) for s in sections for row in s["rows"]]
    rows = [(name, r) for name, r in rows if r is not None]
    if not rows:
        return False
    figure, axes = plt.subplots(figsize=(10, 0.35 * len(rows) + 1.5))
    axes.barh([name for name, _ in rows], [r for _, r in rows], color="#4c72b0")
    axes.axvline(1.0, color="black", linewidth=0.8)
    axes.set_xscale("log")
    axes.set_xlabel("ours / baseline (log scale, lower is better)")
    axes.invert_yaxis()
    figure.tight_layout()
    figure.savefig(path, dpi=110)
    return True


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--only", nargs="*", choices=SCRIPTS)
    args = parser.parse_args()
    sections: list[dict] = []
    failures: dict[str, str] = {}
    with tempfile.TemporaryDirectory() as folder:
        for name in args.only or SCRIPTS:
            script = BENCH / f"{name}.py"
            if not script.exists():
                failures[name] = "not written yet"
                continue
            out = Path(folder) / f"{name}.json"
            result = subprocess.run(
                [sys.executable, str(script), "--runs", str(args.runs), "--json", str(out)]
            )
            if result.returncode != 0 or not out.exists():
                failures[name] = f"exited with status {result.returncode}"
                continue
            sections.append(json.loads(out.read_text()))
    (BENCH / "RESULTS.md").write_text(markdown(sections, failures))
    plotted = plot(sections, BENCH / "ratios.png")
    print(f"wrote {BENCH / 'RESULTS.md'}" + (f" and {BENCH / 'ratios.png'}" if plotted else ""))
    return 0


if __name__ == "__main__":
    sys.exit(main())
