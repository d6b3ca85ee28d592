"""Issue 16: how long a warm `cntr-tui snapshot` of a Python service stops it (native
stacks by gdb, Python frames by py-spy within the same pause), beside the Python stack
readers' own pause when run bare on the host, in the same run: `py-spy dump --pid`
(which stops the program while it reads) and pystack's `get_process_threads` (with
stop_process=True).

    .venv/bin/python bench/bench_python_stacks.py [--runs N] [--runtimes docker process]

The program is demo/programs/service.py in the slim Python root, whose `ticker` thread
wakes every millisecond and records the largest gap between two wakes: the stall of a
run is that gap, reset just before it and read after it, as the program saw it. Its
floor is CPython's switch interval (the crunching thread holds the GIL for up to 5 ms),
measured alone in the same run as `idle`. Runs alternate (ours, py-spy, pystack, with
the order rotated each round); one snapshot before them warms gdb's index cache.
Also checked per run: py-spy and pystack name the same Python functions per thread
(where pystack can read the container at all: under docker it opens the container's
interpreter by the host's path and fails, which is why cntr-tui reads with py-spy).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.bench_snapshot import read_stats, reset_ticker  # stalls.c's stats layout
from bench.common import CNTR_TUI, Row, Stats, compile_bytecode, report

PY_SPY = str(Path(sys.executable).with_name("py-spy"))
STATS = "/tmp/service.stats"
IDLE_WINDOW = 0.5  # s: the ticker's largest gap while nothing stops it
RUN_TIMEOUT = 120
PYSTACK = (
    "import json, sys; from pystack.engine import get_process_threads as g; "
    "print(json.dumps({t.tid: [f.code.scope for f in t.frames] "
    "for t in g(int(sys.argv[1]), stop_process=True)}))"
)


def stats_of(pid: int) -> str:
    return f"/proc/{pid}/root{STATS}"


def stall(pid: int, command: list[str]) -> tuple[float, subprocess.CompletedProcess[str]]:
    """The largest gap while `command` ran: read once the ticker woke twice after it
    (a stall ends at the ticker's next wake, which the GIL can delay by 5 ms)."""
    reset_ticker(stats_of(pid))
    done = subprocess.run(command, capture_output=True, text=True, timeout=RUN_TIMEOUT)
    ticks = read_stats(stats_of(pid))[0]
    deadline = time.monotonic() + 10
    while read_stats(stats_of(pid))[0] < ticks + 2 and time.monotonic() < deadline:
        time.sleep(0.001)
    return read_stats(stats_of(pid))[1] / 1e9, done


def idle(pid: int) -> float:
    reset_ticker(stats_of(pid))
    time.sleep(IDLE_WINDOW)  # a measurement window, not a wait for readiness
    return read_stats(stats_of(pid))[1] / 1e9


def measure(runtime: str, runs: int) -> list[Row]:
    from cntr_tui.demo import containers
    from cntr_tui.demo.python_root import SERVICE, build_python_root

    started = containers.STARTERS[runtime](f"cntr-bench-py-{runtime}", build_python_root(), SERVICE)
    try:
        pid = started.pid
        deadline = time.monotonic() + 30
        while not os.path.exists(stats_of(pid)) or read_stats(stats_of(pid))[0] < 2:
            if time.monotonic() > deadline:
                raise RuntimeError("the service did not start ticking")
            time.sleep(0.01)
        word = started.name if runtime == "docker" else str(pid)
        ours_command = [CNTR_TUI, "snapshot", "--json", word]
        stall(pid, ours_command)  # warm
        ours: list[float] = []
        reported: list[float] = []
        language_ms: list[float] = []
        py_spy: list[float] = []
        pystack: list[float] = []
        pystack_failure: list[str] = []
        quiet: list[float] = []
        disagreements = 0

        def run_ours() -> None:
            gap, done = stall(pid, ours_command)
            if done.returncode != 0:
                raise RuntimeError(f"snapshot failed: {done.stderr.strip()[-300:]}")
            document = json.loads(done.stdout)
            if document["language"]["missing"]:
                raise RuntimeError(document["language"]["missing"])
            ours.append(gap)
            reported.append(document["pause"]["ms"] / 1000)
            language_ms.append(document["language"]["ms"] / 1000)

        py_spy_functions: dict[int, list[str]] = {}

        def run_py_spy() -> None:
            gap, done = stall(pid, [PY_SPY, "dump", "--pid", str(pid), "--json"])
            if done.returncode != 0:
                raise RuntimeError(f"py-spy failed: {done.stderr.strip()[-300:]}")
            py_spy.append(gap)
            for thread in json.loads(done.stdout):
                names = [f["name"].rsplit(".", 1)[-1] for f in thread["frames"]]
                py_spy_functions[thread["os_thread_id"]] = names

        def run_pystack() -> None:
            nonlocal disagreements
            gap, done = stall(pid, [sys.executable, "-c", PYSTACK, str(pid)])
            if done.returncode != 0:
                pystack_failure.append(done.stderr.strip().splitlines()[-1])
                return
            pystack.append(gap)
            read = {
                int(tid): list(reversed(names)) for tid, names in json.loads(done.stdout).items()
            }
            # the busy thread moves between the two reads: compare the outer frames only
            for tid, names in read.items():
                theirs = py_spy_functions.get(tid, [])
                if names[-3:] != theirs[-3:]:
                    disagreements += 1

        for index in range(runs):
            order: list[Callable[[], None]] = [run_ours, run_py_spy, run_pystack]
            shift = index % 3
            for run in order[shift:] + order[:shift]:
                run()
            quiet.append(idle(pid))
    finally:
        started.remove()
    idle_stats = Stats.of(quiet)
    rows = [
        Row(
            f"{runtime}: stall of a warm snapshot with Python frames (5 threads)",
            Stats.of(ours),
            Stats.of(py_spy),
            "py-spy dump --pid, bare on the host",
            extra={
                "reported": Stats.of(reported),
                "py-spy within": Stats.of(language_ms),
                "idle": idle_stats,
            },
            note=(
                f"reported pause {Stats.of(reported).text()}; py-spy's read within it "
                f"{Stats.of(language_ms).text()}; the ticker's idle floor {idle_stats.text()}"
            ),
        )
    ]
    if pystack:
        rows.append(
            Row(
                f"{runtime}: pystack bare on the host (stop_process=True)",
                Stats.of(pystack),
                Stats.of(py_spy),
                "py-spy dump --pid, bare on the host",
                note=f"outer frames differing from py-spy's: {disagreements} thread reads",
            )
        )
    else:
        rows.append(
            Row(
                f"{runtime}: pystack bare on the host",
                None,
                Stats.of(py_spy),
                "py-spy dump --pid, bare on the host",
                note=f"pystack fails: {pystack_failure[0] if pystack_failure else '?'}",
            )
        )
    return rows


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--runtimes", nargs="+", default=["docker", "process"])
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()
    compile_bytecode()
    rows = [row for runtime in args.runtimes for row in measure(runtime, args.runs)]
    return report("Python stacks: the program's stall", rows, args.json)


if __name__ == "__main__":
    sys.exit(main())
