"""`cntr-tui gdb --batch` waits, as gdb's own --batch does, for the stop of each command
that leaves the program running, and prints gdb's lines for it; a SIGINT to it during
that wait interrupts the program and the next command runs; once the program exits no
command runs. After the run the program runs on, untraced. Real gdb and gdbserver on
the demo program in docker and in plain namespaces."""

from __future__ import annotations

import re
import signal
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.support.cli import CNTR_TUI
from tests.support.frontend import Program
from tests.support.proc import running, tracer_of, wait_until

RUNTIMES = ["docker", "process"]
BREAKPOINT_AT = re.compile(r"Breakpoint 1 at (0x[0-9a-f]+)")


@dataclass
class BatchRun:
    """`cntr-tui gdb WORD --batch -ex ...` started, its stdout and stderr in files."""

    process: subprocess.Popen[bytes]
    stdout: Path
    stderr: Path

    def out(self) -> str:
        return self.stdout.read_text(errors="replace")

    def err(self) -> str:
        return self.stderr.read_text(errors="replace")

    def wait(self, timeout: float = 60) -> int:
        return self.process.wait(timeout)


@pytest.fixture
def start_batch(tmp_path: Path) -> Iterator:
    started: list[subprocess.Popen[bytes]] = []

    def start(word: str, *commands: str) -> BatchRun:
        arguments = [*CNTR_TUI, "gdb", word, "--batch"]
        for command in commands:
            arguments += ["-ex", command]
        stdout, stderr = tmp_path / f"out{len(started)}", tmp_path / f"err{len(started)}"
        with stdout.open("wb") as out, stderr.open("wb") as err:
            process = subprocess.Popen(arguments, stdout=out, stderr=err)
        started.append(process)
        return BatchRun(process, stdout, stderr)

    yield start
    for process in started:
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)  # a clean detach
            try:
                process.wait(30)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


@dataclass
class Target:
    word: str  # what `cntr-tui gdb` is given
    pid: int
    program: Program


@pytest.fixture(params=RUNTIMES)
def target(request: pytest.FixtureRequest, start_container) -> Target:
    container = start_container(request.param)
    word = container.name if container.runtime == "docker" else str(container.pid)
    return Target(word, container.pid, Program.of(container.pid))


def test_a_backtrace_after_continue_is_taken_at_the_breakpoints_stop(
    target: Target, start_batch
) -> None:
    program = target.program
    run = start_batch(target.word, "break tick", "continue", "bt")
    assert run.wait(120) == 0, (run.out(), run.err())
    out = run.out()
    # gdb's lines for the stop, in order: the hit, the source line, then bt's frames
    hit = re.search(r"hit Breakpoint 1, tick \(w=.*\) at threads\.c:38\n38\t\s+w->iterations", out)
    assert hit, out
    backtrace = re.search(r"#0  tick \(w=.*\) at threads\.c:38\n#1  .* in worker_main", out)
    assert backtrace and backtrace.start() > hit.start(), out
    address = int(BREAKPOINT_AT.search(out).group(1), 16)  # type: ignore[union-attr]
    program.assert_runs_on({address}, time.monotonic(), within=10)


def test_a_sigint_while_continue_waits_interrupts_and_the_next_command_runs(
    target: Target, start_batch
) -> None:
    program = target.program
    run = start_batch(target.word, "continue", "info threads")
    # the program runs under gdb: batch is in continue's wait (no breakpoint: for ever)
    assert wait_until(lambda: "Continuing." in run.out(), 60), (run.out(), run.err())
    assert wait_until(lambda: tracer_of(program.pid) != 0 and not program.all_stopped(), 30)
    before = program.counter_values()
    assert wait_until(lambda: program.counter_values() != before)
    assert run.process.poll() is None, "continue did not wait"
    run.process.send_signal(signal.SIGINT)
    assert run.wait(60) == 0, (run.out(), run.err())
    out = run.out()
    stop = out.find("received signal SIGINT")
    threads = re.search(r"Id\s+Target Id\s+Frame", out)  # info threads' heading
    assert stop != -1 and threads and threads.start() > stop, out
    assert out.count('"worker-') >= 3, out
    # the interrupt's SIGINT was gdb's (nopass): the program's handler would end it
    program.assert_runs_on(set(), time.monotonic(), within=10)


def test_once_the_program_exits_no_command_runs(target: Target, start_batch) -> None:
    # SIGTERM passed to the program: its handler ends it (main joins its workers)
    run = start_batch(target.word, "signal SIGTERM", "info threads", "bt")
    status = run.wait(120)
    out, err = run.out(), run.err()
    # the container's PID 1 ends: its namespaces, gdb's attach session with them, end
    # too, often before gdb prints the exit; the engine's reason says which end it saw
    assert "Target Id" not in out and "#0" not in out, out
    assert re.search(r"cntr-tui: .*; 2 command\(s\) after `signal SIGTERM` not run", err), err
    assert status == 1, (status, err)
    assert wait_until(lambda: not running(target.pid), 30)
