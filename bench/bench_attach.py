"""Row 2: attach latency, cold (no merged root up) and warm (the container's merged root
already held by another session), to a finished `true` and to a gdb backtrace, vs.
`nsenter -a -t PID true`, `docker exec CONTAINER true` and host `gdb -p PID -batch -ex bt`.

    .venv/bin/python bench/bench_attach.py [--runs N] [--json OUT]
"""

from __future__ import annotations

import argparse
import contextlib
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import Row, Stats, report, wall_time
from cntr_tui.demo import containers
from cntr_tui.demo.rootfs import build_rootfs


def timed(command: list[str], runs: int) -> tuple[Stats | None, str]:
    try:
        return Stats.of([wall_time(command) for _ in range(runs)]), ""
    except subprocess.CalledProcessError as error:
        last = (error.stderr or b"").decode(errors="replace").strip().splitlines()
        return None, f"failed: {last[-1] if last else error}"[:80]


@contextlib.contextmanager
def holder(container: str) -> Iterator[None]:
    """Keep the container's merged root up with a long-running session."""
    process = subprocess.Popen(
        ["cntr-tui", "attach", container, "--", "/bin/sh", "-c", "echo up; exec sleep 3600"],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
    )
    try:
        assert process.stdout is not None
        if process.stdout.readline().strip() != b"up":
            raise RuntimeError("the holder session did not start")
        yield
    finally:
        process.terminate()
        process.wait()


def import_time() -> Stats:
    command = [sys.executable, "-c", "import trio, pyfuse3, textual, pygdbmi"]
    return Stats.of([wall_time(command) for _ in range(3)])


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()
    runs = args.runs

    demo = containers.start_docker("cntr-bench-attach", build_rootfs())
    name, pid = demo.name, str(demo.pid)
    rows: list[Row] = []
    try:
        nsenter, _ = timed(["nsenter", "-a", "-t", pid, "true"], runs)
        docker_exec, _ = timed(["docker", "exec", name, "true"], runs)
        host_gdb, _ = timed(["gdb", "-p", pid, "-batch", "-ex", "bt"], runs)
        attach_true = ["cntr-tui", "attach", name, "--", "true"]
        gdb_bt = ["cntr-tui", "gdb", name, "--batch", "-ex", "bt"]

        cold, note = timed(attach_true, runs)
        rows.append(Row("attach -- true, cold", cold, nsenter, "nsenter -a true", "", note))
        rows.append(
            Row(
                "attach -- true, cold (vs docker exec)",
                cold,
                docker_exec,
                "docker exec true",
                "",
                note,
            )
        )
        gdb_cold, gdb_note = timed(gdb_bt, runs)
        rows.append(
            Row(
                "gdb --batch -ex bt, cold",
                gdb_cold,
                host_gdb,
                "host gdb -p -batch bt",
                "",
                gdb_note,
            )
        )
        try:
            with holder(name):
                warm, note = timed(attach_true, runs)
                gdb_warm, gdb_note = timed(gdb_bt, runs)
        except RuntimeError as error:
            warm = gdb_warm = None
            note = gdb_note = str(error)
        rows.append(Row("attach -- true, warm", warm, nsenter, "nsenter -a true", "", note))
        rows.append(
            Row(
                "gdb --batch -ex bt, warm",
                gdb_warm,
                host_gdb,
                "host gdb -p -batch bt",
                "",
                gdb_note,
            )
        )
        rows.append(
            Row(
                "where the time goes: import trio+pyfuse3+textual+pygdbmi", import_time(), None, "-"
            )
        )
    finally:
        demo.remove()
    return report("Attach latency", rows, args.json)


if __name__ == "__main__":
    sys.exit(main())
