"""The session's interrupt sends no SIGINT once gdb is gone or the guard takes over
(issue 12): with gdbserver as the tracer, `interrupt()` stops the program with a SIGINT
of its own, and one sent while the guard detaches gdbserver could reach the program
after the guard's `D` (the demo's handler ends it: a file server lost while a detach
through gdb began, found by CI in test_gdb_hot_breakpoint.py).

Each test calls interrupt() at such a moment, the program running under gdbserver, and
an ftrace instance records every SIGINT the kernel generates (signal:signal_generate):
none may be for a thread of the program, nor may the interrupt claim a stop. The guard
then detaches gdbserver and the program runs on, untraced, its workers ticking.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import re
import signal
import subprocess
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from cntr_tui.gdb.attached import AttachLauncher
from cntr_tui.gdb.launch import HostLauncher
from cntr_tui.gdb.records import Result
from cntr_tui.gdb.session import GdbSession
from cntr_tui.linux.proc_stat import alive
from cntr_tui.linux.proc_status import SIGINT, interrupt_pending
from tests.support.frontend import Program
from tests.support.gdb import session_end
from tests.support.proc import namespace_pid, process_state, running, tracer_of, wait_until
from tests.support.runtimes import TEST_PREFIX, StartContainer

INSTANCES = Path("/sys/kernel/tracing/instances")
RUNTIMES = ("docker", "process")
pytestmark = pytest.mark.usefixtures("tracefs")  # signals_generated records in it
TARGET = re.compile(rb"signal_generate: sig=\d+ .* pid=(\d+) ")


@contextlib.contextmanager
def signals_generated(number: int) -> Iterator[Callable[[], list[int]]]:
    """An ftrace instance of its own recording each signal `number` generated: yields a
    function giving the PIDs (thread IDs) each was generated for, so far. The instance is
    removed on the way out, even on failure."""
    instance = INSTANCES / f"{TEST_PREFIX}signals-{uuid.uuid4().hex[:8]}"
    instance.mkdir()
    event = instance / "events" / "signal" / "signal_generate"
    try:
        (event / "filter").write_text(f"sig == {number}\n")
        (event / "enable").write_text("1\n")

        def targets() -> list[int]:
            return [int(pid) for pid in TARGET.findall((instance / "trace").read_bytes())]

        # the trace sees a signal sent: without it, an empty trace would prove nothing
        witness = subprocess.Popen(["sleep", "60"])
        try:
            witness.send_signal(number)
        finally:
            witness.kill()
            witness.wait()
        assert witness.pid in targets(), "the ftrace instance records no signal"
        yield targets
    finally:
        with contextlib.suppress(OSError):
            (event / "enable").write_text("0\n")
        instance.rmdir()


def assert_left_to_the_guard(
    session: GdbSession, interrupted: Result, sent: list[int], program: Program
) -> None:
    """interrupt() claimed no stop and `sent` no SIGINT to the program's threads; the
    guard detached gdbserver, and the program runs on."""
    assert not interrupted.ok, interrupted
    assert sent == [], f"interrupt() sent SIGINT to {sent} after gdb's end began"
    outcome = session.guard_outcome
    assert outcome is not None and outcome.get("detached_by_guard"), outcome
    assert_runs_on(program)


def assert_runs_on(program: Program) -> None:
    pid = program.pid
    assert wait_until(lambda: not running(pid) or tracer_of(pid) == 0), "still traced"
    assert wait_until(lambda: not running(pid) or process_state(pid) in ("S", "R"))
    assert running(pid), "the program died"
    before = program.counter_values()[0]
    # two ticks of one worker: one that took a SIGINT would end after at most one
    assert wait_until(lambda: not running(pid) or program.counter_values()[0] >= before + 2)
    assert running(pid), "the program died"
    assert not interrupt_pending(pid)


async def running_under_gdbserver(session: GdbSession, pid: int) -> None:
    assert session.tracer == "gdbserver"
    assert (await session.continue_()).ok
    assert session.state == "running"
    assert tracer_of(pid) != 0


async def test_no_sigint_once_gdb_is_gone(threads_program: subprocess.Popen[bytes]) -> None:
    """gdb killed and reaped while the program runs, the guard taking over (the session
    need not have seen gdb's end yet): interrupt() finds gdb gone (`not alive`) and sends
    nothing."""
    pid = threads_program.pid
    program = Program.of(pid)
    threads = program.threads()
    session = await GdbSession.start(HostLauncher(target_host_pid=pid, tracer="gdbserver"))
    try:
        assert (await session.attach(pid)).ok
        await running_under_gdbserver(session, pid)
        gdb = session._process  # type: ignore[attr-defined]
        with signals_generated(SIGINT) as targets:
            os.kill(gdb.pid, signal.SIGKILL)
            await gdb.wait()
            assert not alive(gdb.pid) and not session._guard_detaches  # type: ignore[attr-defined]
            interrupted = await session.interrupt(timeout=5)
            await session_end(session)
            await session.close()  # the guard's outcome is in once it returns
            sent = [target for target in targets() if target in threads]
    finally:
        await session.close()
    assert_left_to_the_guard(session, interrupted, sent, program)


@pytest.mark.parametrize("runtime", RUNTIMES)
async def test_no_sigint_while_the_guard_takes_over(
    runtime: str, start_container: StartContainer
) -> None:
    """The merged root's file server is lost: the session lets the guard detach
    gdbserver (`_guard_detaches`) and kills gdb. interrupt() called in that instant, gdb
    still alive (its kill comes right after the interrupt's first step), sends nothing."""
    container = start_container(runtime)
    pid = container.pid
    program = Program.of(pid)
    threads = program.threads()
    launcher = await AttachLauncher.start(pid)
    session = await GdbSession.start(launcher)
    loop = asyncio.get_running_loop()
    gdb = session._process  # type: ignore[attr-defined]
    kill_gdb = gdb.kill
    at_kill: list[tuple[bool, bool]] = []  # (guard takes over, gdb alive) at the first kill
    interrupts: list[asyncio.Task[Result]] = []

    def kill_after_an_interrupt() -> None:
        if at_kill:
            kill_gdb()
            return
        at_kill.append((session._guard_detaches, alive(gdb.pid)))  # type: ignore[attr-defined]
        # the loop runs callbacks in order: the task's first step (up to the SIGINT, if
        # any) before the kill
        interrupts.append(loop.create_task(session.interrupt(timeout=5)))
        loop.call_soon(kill_gdb)

    try:
        attached = await session.attach(namespace_pid(pid), host_pid=pid)
        assert attached.ok, attached.error
        await running_under_gdbserver(session, pid)
        gdb.kill = kill_after_an_interrupt
        root = launcher.session.root
        assert root is not None
        with signals_generated(SIGINT) as targets:
            os.kill(root.server, signal.SIGKILL)
            ended = await session_end(session)
            assert at_kill, ended  # the session went through the launcher's loss
            interrupted = await interrupts[0]
            await session.close()
            sent = [target for target in targets() if target in threads]
    finally:
        await session.close()
    assert at_kill[0] == (True, True), at_kill
    assert_left_to_the_guard(session, interrupted, sent, program)
