"""The trap guard is armed before gdb attaches, and an attach that fails or never
happens leaves the program as it was and no guard behind.

The guard starts beside gdb's attach (not after it), so in the window between its start
and `-target-attach` it must already hold what protects the program: gdbserver's pipe
ends (ours closed), gdb watched. Host gdb on the demo program run chrooted on the host
(like test_gdb_engine.py), both tracers.
"""

from __future__ import annotations

import os
import signal
import subprocess
import time
from collections.abc import Awaitable, Callable

import pytest

from cntr_tui.gdb.launch import HostLauncher
from cntr_tui.gdb.session import GdbSession
from cntr_tui.gdb.transport import MiResult
from cntr_tui.python_command import module_main_command
from tests.support.gdb import session_end
from tests.support.proc import (
    command_line,
    command_lines,
    guard_pids,
    process_state,
    tracer_of,
    wait_until,
)

TRACERS = ["gdbserver", "native"]


def guards_of(pid: int) -> list[int]:
    """Trap guard processes guarding `pid`."""
    return [found for found, argv in command_lines().items() if guard_pids(argv)[1:2] == [pid]]


def pipes_held(pid: int) -> set[str]:
    held = set()
    for number in os.listdir(f"/proc/{pid}/fd"):
        try:
            held.add(os.readlink(f"/proc/{pid}/fd/{number}"))
        except OSError:
            continue
    return {name for name in held if name.startswith("pipe:")}


def runs_freely(pid: int) -> bool:
    return tracer_of(pid) == 0 and process_state(pid) in ("S", "R")


def context_switches(pid: int) -> int:
    """Voluntary context switches of all threads (the workers sleep 0.1 s per tick)."""
    total = 0
    for task in os.listdir(f"/proc/{pid}/task"):
        with open(f"/proc/{pid}/task/{task}/status") as status:
            for line in status:
                if line.startswith("voluntary_ctxt_switches:"):
                    total += int(line.split()[1])
    return total


def ticking(pid: int) -> bool:
    before = context_switches(pid)
    return wait_until(lambda: context_switches(pid) > before + 3)


def spy_on_attach(session: GdbSession, before_attach: Callable[[], Awaitable[None]]) -> None:
    """Run `before_attach` at the moment the session sends `-target-attach`."""
    send = session.command

    async def command(mi_command: str) -> MiResult:
        if mi_command.startswith("-target-attach"):
            await before_attach()
        return await send(mi_command)

    session.command = command  # type: ignore[method-assign]


@pytest.mark.parametrize("tracer", TRACERS)
async def test_the_guard_is_armed_when_the_attach_is_sent(tracer: str, threads_program):
    pid = threads_program.pid
    session = await GdbSession.start(HostLauncher(target_host_pid=pid, tracer=tracer))
    seen: list[int] = []

    async def armed() -> None:
        guard = session._guard  # its command line may still be in the exec: by PID
        assert guard is not None
        gdb = session._process.pid  # type: ignore[attr-defined]
        assert wait_until(lambda: guard_pids(command_line(guard.pid)) == [gdb, pid])
        assert tracer_of(pid) == 0  # armed before anyone traces the program
        if tracer == "gdbserver":
            guard_argv = command_line(guard.pid)
            server = int(guard_argv[guard_argv.index("--gdbserver") + 1])
            server_pipes = {os.readlink(f"/proc/{server}/fd/{fd}") for fd in (0, 1)}
            assert server_pipes <= pipes_held(guard.pid)  # the guard holds gdbserver's pipes
            assert not server_pipes & pipes_held(os.getpid())  # and we no longer do
        seen.append(guard.pid)

    spy_on_attach(session, armed)
    try:
        assert (await session.attach(pid)).ok
        assert len(seen) == 1 and guards_of(pid) == seen  # the same guard, still there
        assert (await session.detach()).ok
    finally:
        await session.close()
    assert guards_of(pid) == []
    assert session.guard_outcome is not None and not session.guard_outcome.get("restored")
    assert wait_until(lambda: runs_freely(pid)) and ticking(pid)


@pytest.mark.parametrize("tracer", TRACERS)
async def test_a_failed_attach_releases_the_guard_and_touches_nothing(tracer: str, threads_program):
    pid = threads_program.pid
    holder = await GdbSession.start(HostLauncher(target_host_pid=pid))
    try:
        assert (await holder.attach(pid)).ok  # the program stops under holder's gdbserver
        held_by, state = tracer_of(pid), process_state(pid)
        assert held_by != 0 and state == "t"
        holders_guards = guards_of(pid)
        second = await GdbSession.start(HostLauncher(target_host_pid=pid, tracer=tracer))
        try:
            failed = await second.attach(pid)
            assert not failed.ok  # already traced
            assert guards_of(pid) == holders_guards  # its guard is gone, holder's is not
        finally:
            await second.close()
        assert second.guard_outcome is None  # released: it never looked at the program
        assert (tracer_of(pid), process_state(pid)) == (held_by, state)
        assert guards_of(pid) == holders_guards
        assert len((await holder.threads()).unwrap()) == 4
        assert (await holder.detach()).ok
    finally:
        await holder.close()
    assert guards_of(pid) == []
    assert wait_until(lambda: runs_freely(pid)) and ticking(pid)


@pytest.mark.parametrize("tracer", TRACERS)
async def test_gdb_killed_before_the_attach_leaves_the_program_running(
    tracer: str, threads_program
):
    pid = threads_program.pid
    session = await GdbSession.start(HostLauncher(target_host_pid=pid, tracer=tracer))

    async def kill_gdb() -> None:
        os.kill(session._process.pid, signal.SIGKILL)  # type: ignore[attr-defined]
        await session._process.wait()  # type: ignore[attr-defined]

    spy_on_attach(session, kill_gdb)
    started = time.monotonic()
    try:
        assert not (await session.attach(pid)).ok
        ended = await session_end(session, timeout=20)
        assert ended.kind == "gdb-exited", ended
    finally:
        await session.close()
    outcome = session.guard_outcome
    assert outcome is not None and not outcome.get("restored") and not outcome.get("error")
    if tracer == "gdbserver":
        # gdbserver never attached: the guard saw it and sent the program no signal
        assert outcome.get("server_attached") is False and not outcome.get("continued"), outcome
        assert time.monotonic() - started < 5  # not the takeover's 10 s timeout
    assert guards_of(pid) == []
    assert wait_until(lambda: runs_freely(pid))
    assert ticking(pid)


# The guard process's interpreter: `python -I -S`, so that its start stays cheap while gdb
# attaches on the same cores (see the header of cntr_tui/gdb/guard_process.py).
GUARD_MAY_LOAD = {
    "cntr_tui",
    "cntr_tui.gdb",
    "cntr_tui.gdb.guard_process",
    "cntr_tui.gdb.trap_rescue",
    "cntr_tui.linux",
    "cntr_tui.linux.fds",
    "cntr_tui.linux.memory",
    "cntr_tui.linux.pidfd",
    "cntr_tui.linux.proc_stat",
    "cntr_tui.linux.proc_status",
    "cntr_tui.linux.procfs",
}
GUARD_NEVER_LOADS = (
    "asyncio",
    "json",
    "signal",
    "contextlib",
    "dataclasses",
    "enum",
    "re",
    "typing",
    "ctypes",
    "subprocess",
)


def test_the_guard_process_starts_with_cheap_modules_only() -> None:
    command = module_main_command("cntr_tui.gdb.guard_process", isolated=True)
    code = command[-1].replace("main()", "print(*sys.modules)")
    loaded = subprocess.run(
        [*command[:-1], code], capture_output=True, text=True, check=True
    ).stdout.split()
    assert command[1:3] == ("-I", "-S")
    assert "cntr_tui.gdb.guard_process" in loaded
    ours = {name for name in loaded if name.split(".")[0] == "cntr_tui"}
    assert ours <= GUARD_MAY_LOAD, ours - GUARD_MAY_LOAD
    assert not [name for name in loaded if name.split(".")[0] in GUARD_NEVER_LOADS]
