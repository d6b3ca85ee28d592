"""gdb and gdbserver begun before the engine exists (what `cntr-tui gdb --batch` does):
the session drives the very gdb that was begun, and what is never taken ends."""

from __future__ import annotations

import os
import signal

import pytest

from cntr_tui.attach.spare import spare_helpers
from cntr_tui.gdb.attached import AttachLauncher
from cntr_tui.gdb.session import GdbSession
from cntr_tui.gdb.settings import gdb_command_line
from cntr_tui.gdb.starts import SessionStarts
from tests.support.proc import (
    parent_of,
    processes_in_pid_namespace_of,
    running,
    tracer_of,
    wait_until,
)


@pytest.mark.parametrize("through_spares", [False, True])
async def test_the_session_drives_the_gdb_begun_before_it(start_container, through_spares):
    """One gdb, the begun one, traced through the gdbserver begun alongside; with spares
    (`cntr-tui gdb --batch`'s start) each runs under the spare meant for it."""
    container = start_container("docker")
    with spare_helpers(2 if through_spares else 0) as spares:
        starts = SessionStarts.open(container.pid)
        starts.begin(gdb_command_line(starts.placement), spares)
        session = await GdbSession.start(AttachLauncher(starts))
        try:
            gdbs = processes_in_pid_namespace_of(container.pid, "gdb")
            assert gdbs == {session._process.pid}  # one gdb: the begun one was taken
            attached = await session.attach(1, host_pid=container.pid)
            assert attached.ok, attached.error
            assert session.tracer == "gdbserver"  # the gdbserver begun alongside
            (server,) = processes_in_pid_namespace_of(container.pid, "gdbserver")
            if through_spares:
                assert parent_of(parent_of(session._process.pid)) == spares[0].process.pid
                assert parent_of(parent_of(server)) == spares[1].process.pid
                assert all(spare.take() is None for spare in spares)  # both used
            backtrace = await session.cli("bt")
            assert backtrace.ok and "main () at threads.c:" in (backtrace.value or "")
            assert (await session.detach()).ok
        finally:
            await session.close()
    assert wait_until(lambda: not processes_in_pid_namespace_of(container.pid, "gdb"))
    assert wait_until(lambda: tracer_of(container.pid) == 0) and running(container.pid)


def test_begun_and_never_taken_ends_with_close(start_container):
    container = start_container("docker")
    starts = SessionStarts.open(container.pid)
    starts.begin(gdb_command_line(starts.placement))
    starts.close()  # waits for both starts, then ends them with the sessions
    assert not processes_in_pid_namespace_of(container.pid, "gdb")
    assert wait_until(lambda: not processes_in_pid_namespace_of(container.pid, "gdbserver"))
    assert tracer_of(container.pid) == 0 and running(container.pid)


def test_an_unused_gdbserver_spare_is_ended_by_its_owner(start_container):
    """With gdb as the tracer gdbserver's spare is never taken: the owner ends it."""
    container = start_container("process")
    with spare_helpers(2) as spares:
        starts = SessionStarts.open(container.pid, tracer="native")
        starts.begin(gdb_command_line(starts.placement), spares)
        starts.close()
        unused = spares[1].process
        assert unused.returncode is None  # still waiting for a plan
    assert unused.returncode is not None and not os.path.exists(f"/proc/{unused.pid}")
    assert not processes_in_pid_namespace_of(container.pid, "gdb")


async def test_a_gdbserver_dead_before_gdb_connects_is_started_once_more(start_container):
    """The tracer gdbserver begun alongside gdb dies before gdb connects: the session
    starts a fresh one instead of letting gdb trace the program itself."""
    container = start_container("process")
    starts = SessionStarts.open(container.pid)
    starts.begin(gdb_command_line(starts.placement))
    assert wait_until(lambda: processes_in_pid_namespace_of(container.pid, "gdbserver"))
    (first,) = processes_in_pid_namespace_of(container.pid, "gdbserver")
    os.kill(first, signal.SIGKILL)
    session = await GdbSession.start(AttachLauncher(starts))
    try:
        attached = await session.attach(1, host_pid=container.pid)
        assert attached.ok, attached.error
        assert session.tracer == "gdbserver" and session.gdbserver_failure is None
        (second,) = processes_in_pid_namespace_of(container.pid, "gdbserver")
        assert second != first and tracer_of(container.pid) == second
        assert (await session.detach()).ok
    finally:
        await session.close()
    assert wait_until(lambda: tracer_of(container.pid) == 0) and running(container.pid)
