"""A detach with catchpoints set is a clean one: gdbserver refuses `D` while it still
catches syscalls for the process (E01, "Can't detach process"), so the engine removes
the catchpoints before it detaches."""

from __future__ import annotations

import pytest

from cntr_tui.gdb.launch import HostLauncher
from cntr_tui.gdb.session import GdbSession
from tests.runtime.test_gdb_breakpoints_running import counters_move
from tests.runtime.test_gdb_container import open_session
from tests.support.frontend import Program
from tests.support.proc import tracer_of, wait_until


@pytest.mark.parametrize("where", ["gdbserver", "native", "docker", "process"])
@pytest.mark.parametrize("caught", ["syscall clock_nanosleep", "syscall", "signal SIGUSR1", "fork"])
async def test_a_detach_with_a_catchpoint_set_is_clean(request, where: str, caught: str):
    if where in ("gdbserver", "native"):
        pid = request.getfixturevalue("threads_program").pid
        session = await GdbSession.start(HostLauncher(target_host_pid=pid, tracer=where))
        assert (await session.attach(pid)).ok
    else:
        pid = request.getfixturevalue("start_container")(where).pid
        session = await open_session(pid, [])
    try:
        kind, _, argument = caught.partition(" ")
        assert (await session.catch_insert(kind, argument or None)).ok  # type: ignore[arg-type]
        if kind == "syscall":  # stopped at the call once: gdbserver catches syscalls now
            assert (await session.continue_()).ok
            assert (await session.wait_stopped()).unwrap().reason.startswith("syscall")
        detached = await session.detach()
        assert detached.ok, detached.error
    finally:
        await session.close()
    assert wait_until(lambda: tracer_of(pid) == 0, 5)
    assert counters_move(Program.of(pid))
