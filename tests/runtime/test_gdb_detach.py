"""A detach that follows an interrupt racing with another stop leaves the program running.

The engine interrupts a running process before it detaches. Through gdbserver the
interrupt is a SIGINT to the process; when a breakpoint (or watchpoint) stops it first,
the SIGINT stays queued in the kernel while gdbserver holds the threads, and the
program, detached, died of it: seen in CI as the TUI's SIGHUP during a `continue` onto
a watchpoint ([stopped at a watchpoint-TUI-SIGHUP]), then 7 of 38 times in a loop of
`continue` followed at once by the detach.

Here the race is made certain: the breakpoint has stopped every thread (seen in /proc)
before the session reads gdb's `*stopped`, so the session still believes the process
runs and sends its SIGINT after the stop.
"""

from __future__ import annotations

import time

import pytest

from cntr_tui.linux.proc_status import interrupt_pending
from tests.runtime.test_gdb_container import open_session
from tests.support.frontend import Program
from tests.support.proc import wait_until


@pytest.mark.parametrize("runtime", ["docker", "process"])
async def test_a_detach_after_an_interrupt_that_raced_a_breakpoint(runtime: str, start_container):
    container = start_container(runtime)
    program = Program.of(container.pid)
    session = await open_session(container.pid, [])
    try:
        breakpoint_ = (await session.break_insert("tick")).unwrap()
        assert breakpoint_.address is not None
        assert (await session.continue_()).ok
        assert session.state == "running"
        # no await: the session reads nothing from gdb while the breakpoint stops it
        assert wait_until(
            lambda: program.just_hit({breakpoint_.address}),
            timeout=10,
        ), program.thread_states()
        assert session.state == "running"
        detached = await session.detach()
        assert detached.ok, detached.error
        since = time.monotonic()
        program.assert_runs_on({breakpoint_.address}, since)
        assert not interrupt_pending(container.pid)
    finally:
        await session.close()
