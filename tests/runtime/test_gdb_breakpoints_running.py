"""Breakpoint changes while an all-stop program runs (issue 14): the engine interrupts,
changes, resumes, and the listeners see a `Paused` instead of the transient stop/resume.
Real gdb (gdbserver and native) on the threads program run on the host, and through an
attach session (gdbserver in the container) on docker and plain namespaces."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest

from cntr_tui.gdb.events import Event, Paused, Running, Stopped
from cntr_tui.gdb.launch import HostLauncher
from cntr_tui.gdb.session import GdbSession
from cntr_tui.linux.proc_status import interrupt_pending
from tests.runtime.test_gdb_container import open_session
from tests.support.frontend import Program
from tests.support.proc import wait_until


@pytest.fixture(params=["gdbserver", "native", "docker", "process"])
async def running(request, demo_rootfs) -> AsyncIterator[tuple[GdbSession, list[Event], int]]:
    """A session on the running threads program (host PID last); the events its
    listener got after the program was resumed. gdbserver/native: the program on the
    host; docker/process: in a container of that runtime, through an attach session."""
    events: list[Event] = []
    if request.param in ("docker", "process"):
        container = request.getfixturevalue("start_container")(request.param)
        gdb, pid = await open_session(container.pid, []), container.pid
    else:
        pid = request.getfixturevalue("threads_program").pid
        gdb = await GdbSession.start(HostLauncher(target_host_pid=pid, tracer=request.param))
        assert (await gdb.attach(pid)).ok
    try:
        resumed = asyncio.Event()
        gdb.add_listener(lambda event: resumed.set() if isinstance(event, Running) else None)
        assert (await gdb.continue_()).ok
        await asyncio.wait_for(resumed.wait(), 10)  # its *running may follow ^running
        gdb.add_listener(events.append)
        yield gdb, events, pid
    finally:
        await gdb.close()


def stops_and_runs(events: list[Event]) -> list[Event]:
    return [event for event in events if isinstance(event, Stopped | Running)]


def counters_move(program: Program) -> bool:
    before = program.counter_values()

    def moved() -> bool:
        return all(a > b for a, b in zip(program.counter_values(), before, strict=True))

    return wait_until(moved)


async def test_a_breakpoint_inserted_while_running_pauses_then_stops_there(running):
    session, events, _pid = running
    assert session.state == "running"
    breakpoint_ = (await session.break_insert("tick")).unwrap()
    assert breakpoint_.function == "tick"
    paused = [event for event in events if isinstance(event, Paused)]
    assert len(paused) == 1 and paused[0].reason == "breakpoint"
    assert 0 < paused[0].seconds < 5
    stop = (await session.wait_stopped()).unwrap()
    assert stop.reason == "breakpoint-hit" and stop.breakpoint_number == breakpoint_.number
    # The listeners saw no stop but the breakpoint's (a Running before it may be the
    # hold's resume only if swallowed: none at all is expected).
    assert stops_and_runs(events) == [stop]
    # no order between the two: a tick right after the hold's resume is told to the
    # listeners as soon as gdb's *stopped is read, maybe before the hold's Paused


async def test_delete_disable_and_condition_while_running_keep_it_running(running):
    session, events, pid = running
    program = Program.of(pid)
    # A breakpoint that never fires, set while running.
    never = (await session.break_insert("tick", condition="w->id == 99")).unwrap()
    assert session.state == "running" and counters_move(program)
    assert (await session.break_condition(never.number, "w->id == 98")).ok
    assert (await session.break_disable(never.number)).ok
    assert (await session.break_enable(never.number)).ok
    assert (await session.break_delete(never.number)).ok
    assert session.state == "running" and counters_move(program)
    assert stops_and_runs(events) == []
    paused = [event for event in events if isinstance(event, Paused)]
    assert len(paused) == 5
    assert (await session.breakpoints()).unwrap() == []


async def test_a_condition_changed_while_running_takes_effect(running):
    session, events, pid = running
    program = Program.of(pid)
    hit = (await session.break_insert("tick", condition="w->id == 99")).unwrap()
    assert counters_move(program)
    assert (await session.break_condition(hit.number, "w->id == 1")).ok
    stop = (await session.wait_stopped()).unwrap()
    assert stop.reason == "breakpoint-hit" and stop.breakpoint_number == hit.number
    assert (await session.evaluate("w->id")).unwrap() == "1"
    assert stops_and_runs(events) == [stop]


async def test_a_stop_that_raced_the_hold_is_a_real_stop_and_the_program_stays(running):
    """The race made certain, as in test_gdb_detach: the breakpoint at tick has stopped
    every thread (seen in /proc) before the session reads gdb's *stopped, so the hold's
    interrupt comes after it: that stop is the listeners', with no Paused, and the
    SIGINT left queued is taken."""
    session, events, pid = running
    if session.tracer != "gdbserver":
        pytest.skip("native gdb rewinds the PC itself: the race cannot be seen in /proc")
    program = Program.of(pid)
    tick = (await session.break_insert("tick")).unwrap()
    assert tick.address is not None
    if session.state != "running":
        pytest.skip("tick was hit before the race could be set up")
    events.clear()
    # no await: the session reads nothing from gdb while the breakpoint stops it
    assert wait_until(
        lambda: program.just_hit({tick.address}),
        timeout=10,
    ), program.thread_states()
    assert session.state == "running"
    other = await session.break_insert("worker_main")
    assert other.ok, other.error
    assert session.state == "stopped"
    assert session.last_stop is not None and session.last_stop.reason == "breakpoint-hit"
    assert session.last_stop.breakpoint_number == tick.number
    assert stops_and_runs(events) == [session.last_stop]
    assert not [event for event in events if isinstance(event, Paused)]
    assert not interrupt_pending(pid)
    assert (await session.break_delete(tick.number)).ok
    assert (await session.continue_()).ok
    assert counters_move(program)


async def test_changes_made_at_once_while_running_each_get_their_hold(running):
    """Several changes asked at once (a UI sends one per key press, a script several):
    each is made, none runs while the program runs again, and the program runs on."""
    session, events, pid = running
    results = await asyncio.gather(
        session.break_insert("tick", condition="w->id == 99"),
        session.watch_insert("workers[0].id"),
        session.break_insert("compute_step", condition="step < 0"),
        session.dprintf_insert("tick", "never %d\\n", ["w->id"]),
    )
    assert [result.error for result in results] == [None] * 4
    listed = (await session.breakpoints()).unwrap()
    assert len(listed) == 4, listed
    assert session.state == "running"
    assert stops_and_runs(events) == []  # each hold was unseen
    assert sum(isinstance(event, Paused) for event in events) == 4
    assert counters_move(Program.of(pid))
