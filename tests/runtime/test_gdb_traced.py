"""A process another debugger already holds, even on one worker thread only: gdb's
attach would wait on that thread (30-40 s) and leave the whole program stopped. The
gdb front ends refuse it at once, naming the tracer, and touch nothing."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.support.runtimes import StartContainer

CLI = [sys.executable, "-m", "cntr_tui.cli"]


def thread_states(pid: int) -> list[str]:
    states = []
    for tid in os.listdir(f"/proc/{pid}/task"):
        status = Path(f"/proc/{pid}/task/{tid}/status").read_text()
        states.append(
            next(line.split()[1] for line in status.splitlines() if line.startswith("State:"))
        )
    return states


def tracer_of(pid: int, tid: int) -> int:
    status = Path(f"/proc/{pid}/task/{tid}/status").read_text()
    return int(
        next(line.split()[1] for line in status.splitlines() if line.startswith("TracerPid:"))
    )


@pytest.mark.parametrize("runtime", ["docker", "process"])
def test_gdb_refuses_a_process_with_a_traced_worker_thread(
    start_container: StartContainer, runtime: str
) -> None:
    started = start_container(runtime)
    worker = sorted(int(tid) for tid in os.listdir(f"/proc/{started.pid}/task"))[-1]
    assert worker != started.pid, "the demo program has worker threads"
    strace = subprocess.Popen(
        ["strace", "-p", str(worker), "-o", "/dev/null"], stderr=subprocess.PIPE, text=True
    )
    try:
        assert strace.stderr is not None
        assert strace.stderr.readline().strip() == f"strace: Process {worker} attached"
        word = started.name if runtime == "docker" else str(started.pid)
        result = subprocess.run(
            [*CLI, "gdb", word, "--batch", "-ex", "bt"],
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert tracer_of(started.pid, worker) == strace.pid  # we took nothing from it
    finally:
        strace.terminate()
        strace.wait()
    assert result.returncode != 0
    assert result.stdout == ""
    lines = result.stderr.splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith(f"cntr-tui: process {started.pid} is already traced by PID ")
    assert f"PID {strace.pid} (strace -p {worker}" in lines[0]
    assert f"(detach that debugger, or end it (kill {strace.pid}))" in lines[0]
    assert not [state for state in thread_states(started.pid) if state in ("T", "t")]
