"""An interrupt's SIGINT never outlives it (issue 12, "the program never pays"): with
gdbserver as the tracer the session stops the program with a SIGINT of its own
(execution.py), and a stop of something else can come first (gdbserver's own SIGSTOP,
a breakpoint): that SIGINT then stayed queued, and once detached the program died of it
(both demo programs end on SIGINT). Here interrupt and continue alternate many times on
the Go program (its runtime's threads make the race likely) and on the C threads
program, in docker and in plain namespaces: each interrupt returns the SIGINT stop with
no SIGINT left in /proc, and after each detach the program runs on: alive, untraced, not
stopped, no SIGINT queued for any thread, its counter moving."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from pathlib import Path

import pytest

from cntr_tui.demo.go_root import PROGRAM as GO_PROGRAM
from cntr_tui.demo.go_root import build_go_root
from cntr_tui.gdb.events import Event, Running
from cntr_tui.gdb.session import GdbSession
from cntr_tui.linux.proc_status import interrupt_pending
from tests.runtime.test_gdb_container import open_session
from tests.runtime.test_go_goroutines import wait_docker_ready
from tests.support.frontend import Program, symbol_value
from tests.support.proc import process_state, read_u64, running, tracer_of, wait_until
from tests.support.runtimes import StartContainer

RUNTIMES = ("docker", "process")
CHANGES = 15  # breakpoint changes while every syscall is caught
# attach, continue and interrupt CYCLES times, detach; SESSIONS times. The stray stop
# comes at the first resume after an attach (gdbserver's SIGSTOP, thread 2 of the Go
# program: 4 of 20 docker attaches), hence many short sessions.
SESSIONS = 8
CYCLES = 3


async def interrupt_cycles(session: GdbSession, pid: int) -> None:
    """continue, interrupt, CYCLES times: even cycles interrupt at once (as the UI's
    pause key right after a continue), odd ones once gdb said the program runs."""
    resumed = asyncio.Event()

    def on_event(event: Event) -> None:
        if isinstance(event, Running):
            resumed.set()

    session.add_listener(on_event)
    for cycle in range(CYCLES):
        resumed.clear()
        assert (await session.continue_()).ok
        if cycle % 2:
            await asyncio.wait_for(resumed.wait(), 10)
        stopped_already = session.state == "stopped"  # that stray stop, before ^running
        stop = (await session.interrupt()).unwrap()
        # the SIGINT sent was taken by gdb (nopass): nothing of it is left for the program
        assert not interrupt_pending(pid), (cycle, stop)
        if not stopped_already:  # then interrupt sent nothing and returned that stop
            assert stop.reason == "signal-received" and stop.signal_name == "SIGINT", stop
        assert session.state == "stopped"
    session.remove_listener(on_event)


def assert_runs_on(pid: int, progress: Callable[[], int]) -> None:
    assert wait_until(lambda: not running(pid) or tracer_of(pid) == 0), "still traced"
    assert running(pid), "the program died after the detach"
    assert not interrupt_pending(pid), "a SIGINT is queued for the detached program"
    assert wait_until(lambda: process_state(pid) in ("S", "R")), process_state(pid)
    before = progress()
    assert wait_until(lambda: progress() > before), "the program does not run on"
    assert running(pid) and not interrupt_pending(pid)


async def detach_runs_on(pid: int, progress: Callable[[int], Callable[[], int]]) -> None:
    counter: Callable[[], int] | None = None
    for _ in range(SESSIONS):
        session = await open_session(pid, [])
        try:
            counter = counter or progress(pid)
            await interrupt_cycles(session, pid)
            assert (await session.continue_()).ok  # detached while it runs, once stopped
            assert (await session.detach()).ok
        finally:
            await session.close()
        assert_runs_on(pid, counter)


def worker_iterations(pid: int) -> Callable[[], int]:
    program = Program.of(pid)
    return lambda: sum(program.counter_values())


def go_spins(pid: int) -> Callable[[], int]:
    """The Go program's spinner count (main.spins: Go executables are not PIE)."""
    address = symbol_value(f"/proc/{pid}/exe", "main.spins")
    return lambda: read_u64(pid, address)


@pytest.mark.parametrize("runtime", RUNTIMES)
async def test_interrupts_leave_no_sigint_in_the_threads_program(
    runtime: str, start_container: StartContainer
):
    container = start_container(runtime)
    await detach_runs_on(container.pid, worker_iterations)


@pytest.mark.parametrize("runtime", RUNTIMES)
async def test_changes_while_every_syscall_is_caught_leave_no_sigint(
    runtime: str, start_container: StartContainer
):
    """A breakpoint change while running holds the program with an interrupt; with
    every syscall caught, syscall stops come before the SIGINT's, one after another:
    the change failed with "a SIGINT is still queued" (2 of 15 on the old code)."""
    container = start_container(runtime)
    pid = container.pid
    session = await open_session(pid, [])
    try:
        assert (await session.cli("catch syscall")).ok
        for change in range(CHANGES):
            assert (await session.continue_()).ok
            inserted = await session.break_insert("tick")
            assert inserted.ok, (change, inserted.error)
            assert not interrupt_pending(pid), (change, session.last_stop)
            assert (await session.break_delete(inserted.unwrap().number)).ok
            if session.state == "running":
                assert (await session.interrupt()).ok
            assert not interrupt_pending(pid), (change, session.last_stop)
        assert (await session.cli("delete")).ok
        assert (await session.continue_()).ok
        assert (await session.detach()).ok
    finally:
        await session.close()
    assert_runs_on(pid, worker_iterations(pid))


@pytest.fixture(scope="module")
def go_root() -> Path:
    return build_go_root()


@pytest.mark.parametrize("runtime", RUNTIMES)
async def test_interrupts_leave_no_sigint_in_the_go_program(
    runtime: str, start_container: StartContainer, go_root: Path
):
    container = start_container(runtime, GO_PROGRAM, root=go_root)
    if runtime == "docker":
        wait_docker_ready(container.name)
    await detach_runs_on(container.pid, go_spins)
