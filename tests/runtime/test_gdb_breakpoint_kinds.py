"""Breakpoints of every kind against real gdb (issue 14): watchpoints (write, read,
access), logpoints (dprintf), catchpoints (syscall, signal), ignore counts, temporary
breakpoints and run to cursor, instruction steps, and disassembly with source lines.
The threads program on the host (gdbserver and native gdb) and in docker and plain
namespaces (an attach session, gdbserver in the container)."""

from __future__ import annotations

import asyncio
import os
import re
import signal
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from cntr_tui.gdb.events import (
    BreakpointCreated,
    BreakpointDeleted,
    ConsoleOutput,
    Event,
    Paused,
    Running,
    Stopped,
)
from cntr_tui.gdb.launch import HostLauncher
from cntr_tui.gdb.records import Instruction
from cntr_tui.gdb.session import GdbSession
from tests.runtime.test_gdb_breakpoints_running import counters_move, stops_and_runs
from tests.runtime.test_gdb_container import open_session
from tests.support.frontend import Program

SOURCE = Path(__file__).parents[2] / "cntr_tui/demo/programs/threads.c"


def line_of(text: str) -> int:
    """The line of threads.c that holds `text` (first one)."""
    for number, line in enumerate(SOURCE.read_text().splitlines(), 1):
        if text in line:
            return number
    raise AssertionError(f"{text!r} is not in {SOURCE}")


@dataclass
class Debugged:
    session: GdbSession
    events: list[Event]
    pid: int  # the program's host PID

    async def resume(self) -> None:
        """Continue, and wait for the resume's Running (its *running can follow ^running)."""
        came = asyncio.Event()

        def running(event: Event) -> None:
            if isinstance(event, Running):
                came.set()

        self.session.add_listener(running)
        try:
            assert (await self.session.continue_()).ok
            await asyncio.wait_for(came.wait(), 10)
        finally:
            self.session.remove_listener(running)

    async def stop(self) -> Stopped:
        return (await self.session.wait_stopped()).unwrap()

    async def go(self) -> Stopped:
        assert (await self.session.continue_()).ok
        return await self.stop()

    async def instructions(self) -> list[Instruction]:
        listed, pc = (await self.session.disassemble(with_source=True)).unwrap()
        assert pc is not None and pc in {i.address for i in listed}
        return listed


@pytest.fixture(params=["gdbserver", "native", "docker", "process"])
async def debugged(request) -> AsyncIterator[Debugged]:
    """The threads program, stopped by the attach. gdbserver/native: run on the host;
    docker/process: in a container of that runtime, through an attach session."""
    if request.param in ("docker", "process"):
        container = request.getfixturevalue("start_container")(request.param)
        session, pid = await open_session(container.pid, []), container.pid
    else:
        pid = request.getfixturevalue("threads_program").pid
        session = await GdbSession.start(HostLauncher(target_host_pid=pid, tracer=request.param))
        attached = await session.attach(pid)
        assert attached.ok, attached.error
    events: list[Event] = []
    session.add_listener(events.append)
    try:
        yield Debugged(session, events, pid)
    finally:
        await session.close()


def instruction_before(listed: list[Instruction], pc: int) -> Instruction:
    addresses = [i.address for i in listed]
    return listed[addresses.index(pc) - 1]


async def thread_name(session: GdbSession, thread_id: int | None) -> str | None:
    threads = (await session.threads()).unwrap()
    return next(t.name for t in threads if t.id == thread_id)


# --- watchpoints -------------------------------------------------------------------


async def test_a_write_watch_stops_after_the_writing_line_with_old_and_new(debugged):
    session = debugged.session
    watch = (await session.watch_insert("workers[1].iterations")).unwrap()
    assert watch.kind == "watch" and watch.what == "workers[1].iterations"
    stop = await debugged.go()
    assert stop.reason == "watchpoint-trigger" and stop.breakpoint_number == watch.number
    assert stop.frame is not None and stop.frame.function == "tick"
    assert await thread_name(session, stop.thread_id) == "worker-1"
    old, new = (int(value) for value in (stop.detail or "").split(" -> "))
    assert new == old + 1
    assert (await session.evaluate("workers[1].iterations")).unwrap() == str(new)
    # gdb stops one instruction past the write: that instruction is the writing line's.
    written = instruction_before(await debugged.instructions(), stop.frame.address or 0)
    assert written.line == line_of("w->iterations++;")
    listed = (await session.breakpoints()).unwrap()
    assert [(b.number, b.kind, b.hits) for b in listed] == [(watch.number, "watch", 1)]


@pytest.mark.parametrize(
    ("expression", "access", "kind", "function", "text"),
    [
        ("workers[1].id", "read", "read watch", "compute_step", "value += (double)(w->id + 1)"),
        ("workers[1].total", "access", "access watch", "tick", "w->total += compute_step"),
    ],
)
async def test_a_read_or_access_watch_stops_at_the_line_that_reads_it(
    debugged, expression, access, kind, function, text
):
    session = debugged.session
    watch = (await session.watch_insert(expression, access)).unwrap()
    assert watch.kind == kind and watch.what == expression
    stop = await debugged.go()
    assert stop.reason == f"{access}-watchpoint-trigger"
    assert stop.breakpoint_number == watch.number
    # the value read: id is the worker's index; total, a sum of positive terms
    value = (await session.evaluate(expression)).unwrap()
    assert stop.detail == value and float(value) >= 0
    assert stop.frame is not None and stop.frame.function == function
    read = instruction_before(await debugged.instructions(), stop.frame.address or 0)
    assert read.line == line_of(text)


async def test_a_watch_set_in_a_frame_watches_that_frames_variable(debugged):
    """thread_id/level: `w->iterations` of worker-2's tick frame, however selected."""
    session = debugged.session
    tick = (await session.break_insert("tick", condition="w->id == 2")).unwrap()
    stop = await debugged.go()
    assert stop.breakpoint_number == tick.number
    assert (await session.break_delete(tick.number)).ok
    assert (await session.select_thread(1)).ok
    watch = await session.watch_insert("w->iterations", thread_id=stop.thread_id, level=0)
    assert watch.ok, watch.error
    stop = await debugged.go()
    assert stop.reason == "watchpoint-trigger" and stop.breakpoint_number == watch.unwrap().number
    assert await thread_name(session, stop.thread_id) == "worker-2"


async def test_a_watch_on_a_local_ends_with_its_frame(debugged):
    """`w->id` of a tick frame is never written: the stop is its end of scope, when
    tick returns, and gdb deletes the watchpoint."""
    session = debugged.session
    tick = (await session.break_insert("tick")).unwrap()
    stop = await debugged.go()
    assert (await session.break_delete(tick.number)).ok
    watch = (await session.watch_insert("w->id", thread_id=stop.thread_id, level=0)).unwrap()
    stop = await debugged.go()
    assert stop.reason == "watchpoint-scope" and stop.breakpoint_number == watch.number
    assert stop.frame is not None and stop.frame.function == "worker_main"
    assert (await session.breakpoints()).unwrap() == []


# --- while the program runs --------------------------------------------------------


async def test_watch_dprintf_and_catch_inserted_while_running_pause_it_once_each(debugged):
    session, events = debugged.session, debugged.events
    await debugged.resume()
    events.clear()
    logpoint = (await session.dprintf_insert("tick", "id %d\\n", ["w->id"])).unwrap()
    assert logpoint.kind == "logpoint"
    said = await console_lines(debugged, re.compile(r"^id (\d)\n$"), 3)
    assert {int(line[3]) for line in said} <= {0, 1, 2}
    assert session.state == "running" and stops_and_runs(events) == []
    catch = (await session.catch_insert("syscall", "clock_nanosleep")).unwrap()
    assert catch.kind == "catchpoint" and catch.what == "syscall clock_nanosleep"
    stop = await debugged.stop()
    assert stop.reason == "syscall-entry" and stop.breakpoint_number == catch.number
    assert (await session.break_delete(catch.number)).ok
    await debugged.resume()
    events.clear()
    watch = (await session.watch_insert("workers[0].iterations")).unwrap()
    assert watch.kind == "watch"
    stop = await debugged.stop()
    assert stop.reason == "watchpoint-trigger" and stop.breakpoint_number == watch.number
    assert stops_and_runs(events) == [stop]
    paused = [event for event in debugged.events if isinstance(event, Paused)]
    assert len(paused) == 1 and paused[0].reason == "breakpoint"


# --- logpoints -----------------------------------------------------------------------


async def console_lines(debugged: Debugged, pattern: re.Pattern[str], count: int) -> list[str]:
    """Wait for `count` ConsoleOutput texts matching `pattern` (from now on, and the
    ones already received)."""
    found = [e.text for e in debugged.events if isinstance(e, ConsoleOutput)]
    matching = [text for text in found if pattern.match(text)]
    enough = asyncio.Event()

    def listen(event: Event) -> None:
        if isinstance(event, ConsoleOutput) and pattern.match(event.text):
            matching.append(event.text)
            if len(matching) >= count:
                enough.set()

    if len(matching) < count:
        debugged.session.add_listener(listen)
        try:
            await asyncio.wait_for(enough.wait(), 15)
        finally:
            debugged.session.remove_listener(listen)
    return matching


async def test_a_logpoint_prints_without_a_stop_and_the_counters_keep_moving(debugged):
    session, events = debugged.session, debugged.events
    # As a user types it: the C escape \n, a quote and a literal backslash.
    logpoint = (
        await session.dprintf_insert("tick", 'tick \\"%d\\" %lu\\\\\\n', ["w->id", "w->iterations"])
    ).unwrap()
    assert logpoint.kind == "logpoint" and logpoint.function == "tick"
    assert logpoint.what is not None and "w->id,w->iterations" in logpoint.what
    await debugged.resume()
    events.clear()
    pattern = re.compile(r'^tick "(\d)" (\d+)\\\n$')
    said = await console_lines(debugged, pattern, 6)
    assert counters_move(Program.of(debugged.pid))
    assert {pattern.match(text).group(1) for text in said} == {"0", "1", "2"}  # type: ignore[union-attr]
    assert session.state == "running"
    assert stops_and_runs(events) == []
    listed = (await session.breakpoints()).unwrap()
    assert listed[0].number == logpoint.number and listed[0].hits >= len(said)


# --- catchpoints ---------------------------------------------------------------------


async def test_a_syscall_catchpoint_stops_at_the_call_and_its_return(debugged):
    session, events = debugged.session, debugged.events
    catch = (await session.catch_insert("syscall", "clock_nanosleep")).unwrap()
    assert catch.kind == "catchpoint" and catch.what == "syscall clock_nanosleep"
    assert catch.type == "catchpoint" and catch.hits == 0
    # The console route said it once, and told the listeners of it once.
    confirmations = [
        e.text for e in events if isinstance(e, ConsoleOutput) and "Catchpoint" in e.text
    ]
    assert confirmations == [f"Catchpoint {catch.number} (syscall 'clock_nanosleep' [230])\n"]
    created = [e for e in events if isinstance(e, BreakpointCreated)]
    assert [e.breakpoint.number for e in created] == [catch.number]
    stop = await debugged.go()
    assert stop.reason == "syscall-entry" and stop.detail == "clock_nanosleep"
    assert stop.breakpoint_number == catch.number
    assert stop.frame is not None and "clock_nanosleep" in (stop.frame.function or "")
    # The same thread's next catch is its return (the others may enter theirs first).
    entered = stop.thread_id
    for _ in range(8):
        stop = await debugged.go()
        if stop.thread_id == entered:
            break
    assert stop.thread_id == entered and stop.reason == "syscall-return"
    assert stop.detail == "clock_nanosleep"


async def test_a_signal_catchpoint_stops_with_the_signal(debugged):
    session = debugged.session
    catch = (await session.catch_insert("signal", "SIGWINCH")).unwrap()
    assert catch.kind == "catchpoint" and catch.what == "signal SIGWINCH"
    await debugged.resume()
    os.kill(debugged.pid, signal.SIGWINCH)  # ignored by the program: harmless
    stop = await debugged.stop()
    assert stop.reason == "signal-caught" and stop.signal_name == "SIGWINCH"
    assert stop.breakpoint_number == catch.number and stop.detail == "SIGWINCH"
    assert (await session.break_delete(catch.number)).ok
    await debugged.resume()
    assert counters_move(Program.of(debugged.pid))


async def test_a_catchpoint_gdb_refuses_is_an_error(debugged):
    refused = await debugged.session.catch_insert("syscall", "no_such_call")
    assert not refused.ok and "no_such_call" in (refused.error or "")
    assert (await debugged.session.breakpoints()).unwrap() == []


# --- ignore counts, temporary breakpoints, run to cursor ---------------------------


async def test_an_ignore_count_passes_hits_and_break_ignore_changes_it(debugged):
    session = debugged.session
    tick = (await session.break_insert("tick", ignore_count=2, thread_id=2)).unwrap()
    assert tick.ignore == 2 and not tick.temporary
    stop = await debugged.go()
    assert stop.breakpoint_number == tick.number and stop.thread_id == 2
    listed = (await session.breakpoints()).unwrap()
    assert (listed[0].hits, listed[0].ignore) == (3, 0)
    assert (await session.break_ignore(tick.number, 1)).ok
    assert (await session.breakpoints()).unwrap()[0].ignore == 1
    stop = await debugged.go()
    assert stop.breakpoint_number == tick.number and stop.thread_id == 2
    assert (await session.breakpoints()).unwrap()[0].hits == 5


async def test_a_temporary_breakpoint_is_gone_after_its_stop(debugged):
    session = debugged.session
    once = (await session.break_insert("tick", temporary=True)).unwrap()
    assert once.temporary
    stop = await debugged.go()
    assert stop.reason == "breakpoint-hit" and stop.breakpoint_number == once.number
    assert (await session.breakpoints()).unwrap() == []


async def test_run_to_stops_there_and_leaves_no_breakpoint(debugged):
    session = debugged.session
    line = line_of("w->total += compute_step")
    assert (await session.run_to(f"threads.c:{line}")).ok
    stop = await debugged.stop()
    assert stop.reason == "breakpoint-hit" and stop.frame is not None
    assert stop.frame.line == line
    assert (await session.breakpoints()).unwrap() == []


async def test_run_to_while_running_pauses_once_and_stops_there(debugged):
    session, events = debugged.session, debugged.events
    await debugged.resume()
    events.clear()
    line = line_of("w->total += compute_step")
    assert (await session.run_to(f"threads.c:{line}")).ok
    stop = await debugged.stop()
    assert stop.reason == "breakpoint-hit" and stop.frame is not None
    assert stop.frame.line == line
    assert stops_and_runs(events) == [stop]
    assert len([e for e in events if isinstance(e, Paused)]) == 1
    assert (await session.breakpoints()).unwrap() == []


async def test_run_to_a_place_not_reached_leaves_no_breakpoint_at_the_other_stop(debugged):
    session, events = debugged.session, debugged.events
    other = (await session.break_insert("compute_step")).unwrap()
    assert (await session.run_to(f"threads.c:{line_of('return NULL;')}")).ok
    stop = await debugged.stop()
    assert stop.breakpoint_number == other.number
    assert [b.number for b in (await session.breakpoints()).unwrap()] == [other.number]
    deleted = [e.number for e in events if isinstance(e, BreakpointDeleted)]
    assert len(deleted) == 1 and deleted[0] != other.number
    stop = await debugged.go()  # and nothing left of it to stop at
    assert stop.breakpoint_number == other.number


# --- instruction steps and disassembly ---------------------------------------------


async def test_step_instruction_moves_one_instruction_and_next_instruction_steps_over_a_call(
    debugged,
):
    session = debugged.session
    tick = (await session.break_insert("tick")).unwrap()
    stop = await debugged.go()
    assert (await session.break_delete(tick.number)).ok
    listed = await debugged.instructions()
    addresses = [i.address for i in listed]
    pc = stop.frame.address if stop.frame else None
    assert (await session.step_instruction(stop.thread_id)).ok
    stepped = await debugged.stop()
    assert stepped.reason == "end-stepping-range" and stepped.thread_id == stop.thread_id
    assert stepped.frame is not None and stepped.frame.address == addresses[addresses.index(pc) + 1]
    call = next(i for i in listed if i.text.startswith("call") and "compute_step" in i.text)
    assert (await session.run_to(f"*{call.address:#x}", stop.thread_id)).ok
    at_call = await debugged.stop()
    assert at_call.frame is not None and at_call.frame.address == call.address
    assert (await session.next_instruction(at_call.thread_id)).ok
    over = await debugged.stop()
    assert over.frame is not None and over.frame.function == "tick"
    assert over.frame.address == addresses[addresses.index(call.address) + 1]
    assert over.thread_id == at_call.thread_id
    # and step_instruction on a call goes into it
    assert (await session.run_to(f"*{call.address:#x}", at_call.thread_id)).ok
    again = await debugged.stop()  # in whichever worker came there first
    assert again.frame is not None and again.frame.address == call.address
    assert (await session.step_instruction(again.thread_id)).ok
    into = await debugged.stop()
    assert into.frame is not None and into.frame.function == "compute_step"
    assert into.thread_id == again.thread_id


async def test_disassembly_with_source_is_the_frames_function_with_its_lines(debugged):
    session = debugged.session
    # where the attach stopped it: in libc (its line info, if any, is the debug file's)
    attached, at = (await session.disassemble(with_source=True)).unwrap()
    assert at in {i.address for i in attached}
    assert {i.function for i in attached} == {"__GI___clock_nanosleep"}
    tick = (await session.break_insert("tick")).unwrap()
    stop = await debugged.go()
    assert stop.breakpoint_number == tick.number and stop.frame is not None
    listed, pc = (await session.disassemble(with_source=True)).unwrap()
    assert pc == stop.frame.address
    assert {i.function for i in listed} == {"tick"}
    at_pc = next(i for i in listed if i.address == pc)
    assert at_pc.line == stop.frame.line == line_of("w->iterations++;")
    assert at_pc.fullname and at_pc.fullname.endswith("threads.c")
    start = line_of("static void tick")  # its four lines, the closing brace's too
    assert {i.line for i in listed} == set(range(start, start + 4))
    assert sorted(i.address for i in listed) == [i.address for i in listed]  # in order
    # the caller's frame (level 1): worker_main's instructions, the return address in it
    caller, return_pc = (await session.disassemble(level=1, with_source=True)).unwrap()
    assert {i.function for i in caller} == {"worker_main"}
    assert return_pc in {i.address for i in caller}
    plain, plain_pc = (await session.disassemble()).unwrap()
    assert plain_pc == pc and pc in {i.address for i in plain}
    assert all(i.line is None for i in plain)


# --- thread numbers ------------------------------------------------------------------

INFO_THREADS_LINE = re.compile(
    r"^[* ]\s*(\d+)\s+(?:Thread 0x[0-9a-f]+ \(LWP (\d+)\)|Thread \d+\.(\d+))", re.MULTILINE
)


async def test_thread_numbers_are_the_ones_info_threads_and_the_stop_line_show(debugged):
    session, events = debugged.session, debugged.events
    shown = {
        int(number): int(lwp or remote)
        for number, lwp, remote in INFO_THREADS_LINE.findall(
            (await session.cli("info threads")).unwrap()
        )
    }
    threads = (await session.threads()).unwrap()
    assert len(shown) == len(threads) == 4
    assert {t.id: t.lwp for t in threads} == shown
    tick = (await session.break_insert("tick", condition="w->id == 2")).unwrap()
    stop = await debugged.go()
    assert stop.breakpoint_number == tick.number
    hit = [e.text for e in events if isinstance(e, ConsoleOutput) and "hit Breakpoint" in e.text]
    said = re.match(r'Thread (\d+) "worker-2" hit Breakpoint', hit[-1])
    assert said is not None and int(said.group(1)) == stop.thread_id
    assert await thread_name(session, stop.thread_id) == "worker-2"
    assert shown[stop.thread_id or 0] == next(t.lwp for t in threads if t.id == stop.thread_id)


CATCHPOINTS = [
    # kind, argument, what; by MI (-catch-*) and by the console (`catch`)
    ("throw", None, "exception throw"),
    ("catch", "std::.*", "exception catch matching std::.*"),
    ("rethrow", None, "exception rethrow"),
    ("load", "libfoo", "load of library matching libfoo"),
    ("unload", None, "unload of library matching ."),
    ("fork", None, "fork"),
    ("vfork", None, "vfork"),
    ("exec", None, "exec"),
    ("syscall", None, "syscall <any syscall>"),
    ("syscall", "write read", "syscall write, read"),
    ("signal", None, "signal <standard signals>"),
]
BY_MI = {"throw", "catch", "rethrow", "load", "unload"}
CATCHPOINT_LINE = re.compile(r"Catchpoint (\d+) \(")


async def test_every_catchpoint_kind_is_returned_as_gdb_lists_it_and_said_once(debugged):
    """Set while stopped: a catchpoint of every syscall would stop the running program
    at once (see the test above for catchpoints set while it runs)."""
    session, events = debugged.session, debugged.events
    events.clear()
    inserted = []
    for kind, argument, what in CATCHPOINTS:
        catch = (await session.catch_insert(kind, argument)).unwrap()  # type: ignore[arg-type]
        assert (catch.kind, catch.what, catch.enabled) == ("catchpoint", what, True)
        inserted.append(catch)
    assert (await session.breakpoints()).unwrap() == inserted
    numbers = [catch.number for catch in inserted]
    assert len(set(numbers)) == len(numbers)
    said = [
        text
        for text in (e.text for e in events if isinstance(e, ConsoleOutput))
        if text.startswith("Catchpoint ")
    ]
    kinds = [kind for kind, _, _ in CATCHPOINTS]
    by_console = [c.number for c, kind in zip(inserted, kinds, strict=True) if kind not in BY_MI]
    # gdb says each one it sets by the console, and MI's -catch-load/-catch-unload too
    quiet = {"throw", "catch", "rethrow"}
    loud = [c.number for c, kind in zip(inserted, kinds, strict=True) if kind not in quiet]
    said_numbers = [CATCHPOINT_LINE.match(text).group(1) for text in said]  # type: ignore[union-attr]
    assert said_numbers == loud
    created = [e.breakpoint.number for e in events if isinstance(e, BreakpointCreated)]
    assert created == by_console  # gdb tells MI of the console's only
    assert stops_and_runs(events) == [] and session.state == "stopped"
