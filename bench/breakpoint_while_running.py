"""Issue 14: how long the running program is held when a breakpoint is set while it runs
(all-stop: the engine interrupts, inserts, resumes). Two figures for ours: the engine's
own `Paused.seconds`, and, independently, how long a worker thread was seen in state
't' (traced stop) by a thread polling /proc. Baseline, alternating in the same run: the
bare interrupt + resume (session.interrupt() then continue_()), the least a hold costs.

The threads demo program runs on the host (chrooted into the demo root), traced by
gdbserver (the default) or gdb itself.

    .venv/bin/python bench/breakpoint_while_running.py [--runs N] [--tracer T] [--json OUT]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import Row, Stats, report
from cntr_tui.demo.rootfs import build_rootfs
from cntr_tui.gdb.events import Paused
from cntr_tui.gdb.launch import HostLauncher
from cntr_tui.gdb.session import GdbSession
from tests.support.runtimes import start_program

POLLER = r"""
import os, select, sys, time
path, fd = sys.argv[1], sys.stdin.fileno()
while os.read(fd, 1) == b"a":  # armed (blocks until then): poll until another byte
    longest, since = 0.0, None
    while not select.select([fd], [], [], 0)[0]:
        now = time.perf_counter()
        with open(path) as stat:
            state = stat.read().rsplit(")", 1)[1].split()[0]
        if state == "t":
            since = now if since is None else since
        elif since is not None:
            longest, since = max(longest, now - since), None
    os.read(fd, 1)
    print(longest, flush=True)
"""


class StopWatch:
    """Another process polls one thread's /proc state (no GIL shared with the engine):
    the longest run of 't' (traced stop) it saw between arm() and disarm()."""

    def __init__(self, pid: int, tid: int) -> None:
        self.poller = subprocess.Popen(
            [sys.executable, "-c", POLLER, f"/proc/{pid}/task/{tid}/stat"],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )

    def _say(self, word: str) -> None:
        assert self.poller.stdin is not None
        self.poller.stdin.write(word[0])
        self.poller.stdin.flush()

    def arm(self) -> None:
        self._say("arm")

    def disarm(self) -> float:
        self._say("disarm")
        assert self.poller.stdout is not None
        return float(self.poller.stdout.readline())

    def close(self) -> None:
        self._say("end")
        self.poller.wait()


async def measure(runs: int, tracer: str) -> list[Row]:
    program = start_program(build_rootfs(), "threads")
    session = await GdbSession.start(HostLauncher(target_host_pid=program.pid, tracer=tracer))
    paused: list[float] = []
    session.add_listener(
        lambda event: paused.append(event.seconds) if isinstance(event, Paused) else None
    )
    try:
        assert (await session.attach(program.pid)).ok
        assert (await session.continue_()).ok
        worker = sorted(int(t) for t in os.listdir(f"/proc/{program.pid}/task"))[1]
        watch = StopWatch(program.pid, worker)
        ours_wall, ours_paused, ours_proc = [], [], []
        base_wall, base_proc = [], []
        for _ in range(runs):
            watch.arm()
            start = time.perf_counter()
            inserted = (await session.break_insert("tick", condition="0")).unwrap()
            ours_wall.append(time.perf_counter() - start)
            ours_proc.append(watch.disarm())
            ours_paused.append(paused[-1])
            assert session.state == "running"
            assert (await session.break_delete(inserted.number)).ok

            watch.arm()
            start = time.perf_counter()
            assert (await session.interrupt()).ok
            assert (await session.continue_()).ok
            base_wall.append(time.perf_counter() - start)
            base_proc.append(watch.disarm())
        watch.close()
    finally:
        await session.close()
        program.kill()
        program.wait()
    base = Stats.of(base_wall)
    return [
        Row(
            f"insert while running, Paused.seconds ({tracer})",
            Stats.of(ours_paused),
            base,
            "interrupt+continue wall",
        ).judge("< 50 ms", "the program is held too long", max_value=0.050),
        Row(
            f"insert while running, worker in 't' from /proc ({tracer})",
            Stats.of(ours_proc),
            Stats.of(base_proc),
            "interrupt+continue in 't'",
        ).judge("< 50 ms", "the program is held too long", max_value=0.050),
        Row(
            f"insert while running, break_insert wall ({tracer})",
            Stats.of(ours_wall),
            base,
            "interrupt+continue wall",
        ),
    ]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=21)
    parser.add_argument("--tracer", choices=("gdbserver", "native"), default="gdbserver")
    parser.add_argument("--json", type=Path)
    arguments = parser.parse_args()
    rows = asyncio.run(measure(arguments.runs, arguments.tracer))
    return report("Breakpoint set while the program runs (issue 14)", rows, arguments.json)


if __name__ == "__main__":
    raise SystemExit(main())
