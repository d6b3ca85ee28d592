"""The reaper: nothing a session's command leaves behind ends up under the container's init.

The demo program (/app/threads, the container's PID 1) never reaps children, as many
slim containers' init does not: whatever is handed to it stays a zombie, visible from
the host as a child of the container's main process.
"""

from __future__ import annotations

import contextlib
import os
import random
import signal
import subprocess

import pytest

from cntr_tui.attach.session import AttachSession
from cntr_tui.gdb.attached import AttachLauncher
from cntr_tui.gdb.session import GdbSession
from tests.support.attach import cli, pid_namespace_members, wait_until
from tests.support.proc import process_state

RUNTIMES = ("docker", "process")


def children(pid: int) -> dict[int, str]:
    """Children of a host PID (any of its threads) with their state letter."""
    found: dict[int, str] = {}
    for task in os.listdir(f"/proc/{pid}/task"):
        with open(f"/proc/{pid}/task/{task}/children") as file:
            for child in file.read().split():
                with contextlib.suppress(OSError):  # reaped meanwhile
                    found[int(child)] = process_state(int(child))
    return found


def status_field(pid: int, name: str) -> list[int]:
    with open(f"/proc/{pid}/status") as status:
        for line in status:
            if line.startswith(f"{name}:"):
                return [int(value) for value in line.split()[1:]]
    raise AssertionError(f"no {name} in /proc/{pid}/status")


def host_processes_with(argv: list[str]) -> list[int]:
    wanted = b"\0".join(arg.encode() for arg in argv) + b"\0"
    found = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/cmdline", "rb") as file:
                    if file.read() == wanted:
                        found.append(int(entry))
            except OSError:
                pass
    return found


def assert_init_has_no_new_children(init: int, before: dict[int, str]) -> None:
    assert wait_until(lambda: children(init) == before), (
        f"left under the container's init: {children(init)} (before: {before})"
    )


def unique_sleep() -> list[str]:
    return ["sleep", str(100_000 + random.randrange(100_000))]


@pytest.fixture(params=RUNTIMES)
def container(request: pytest.FixtureRequest, start_container):
    started = start_container(request.param)
    assert status_field(started.pid, "NSpid")[-1] == 1  # the main process is the init
    return started


def test_gdb_batch_leaves_no_zombie(container):
    before = children(container.pid)
    members = pid_namespace_members(container.pid)
    result = cli("gdb", str(container.pid), "--batch", "-ex", "bt", timeout=120)
    assert result.returncode == 0, result.stderr
    assert b"main () at threads.c" in result.stdout
    assert_init_has_no_new_children(container.pid, before)
    assert wait_until(lambda: pid_namespace_members(container.pid) <= members)


def orphan_then(sleep: list[str], rest: str) -> list[str]:
    """sh -c: start an orphan in a session of its own (`setsid -f`: no /dev/null needed,
    which the `process` runtime's container lacks), wait for its `up`, then `rest`."""
    orphan = f"setsid -f sh -c 'echo up; exec {' '.join(sleep)}'"
    return ["sh", "-c", f'{orphan} | {{ read line; echo "$line"; }}; {rest}']


def test_orphans_of_the_command_are_ended_and_status_kept(container):
    before = children(container.pid)
    members = pid_namespace_members(container.pid)
    sleep = unique_sleep()
    result = cli("attach", str(container.pid), "--", *orphan_then(sleep, "echo started; exit 5"))
    assert (result.returncode, result.stdout) == (5, b"up\nstarted\n"), result.stderr
    killed = cli("attach", str(container.pid), "--", *orphan_then(sleep, "kill -9 $$"))
    assert (killed.returncode, killed.stdout) == (128 + signal.SIGKILL, b"up\n"), killed.stderr
    assert_init_has_no_new_children(container.pid, before)
    assert wait_until(lambda: pid_namespace_members(container.pid) <= members)
    assert wait_until(lambda: not host_processes_with(sleep)), "the sleep runs on"


@pytest.mark.parametrize("subcommand", ["attach", "exec"])
def test_background_job_is_ended(subcommand, start_container):
    container = start_container("docker")  # its /dev has the null a background job needs
    before = children(container.pid)
    sleep = unique_sleep()
    script = f"{' '.join(sleep)} & echo started"
    result = cli(subcommand, container.name, "--", "sh", "-c", script)
    assert (result.returncode, result.stdout, result.stderr) == (0, b"started\n", b"")
    assert_init_has_no_new_children(container.pid, before)
    assert wait_until(lambda: not host_processes_with(sleep)), "the sleep runs on"


def test_reported_pid_is_the_commands_host_pid(container):
    sleep = unique_sleep()
    with AttachSession(container.pid) as session:
        proc = session.spawn(
            ["sh", "-c", f"echo $$; exec {' '.join(sleep)}"], stdout=subprocess.PIPE
        )
        assert proc.stdout is not None
        pid_inside = int(proc.stdout.readline())
        command = proc.command_pid
        nspid = status_field(command, "NSpid")
        assert len(nspid) == 2 and nspid == [command, pid_inside]
        assert wait_until(lambda: host_processes_with(sleep) == [command])  # exec'd
        reaper = status_field(command, "PPid")[0]
        assert status_field(reaper, "PPid") == [proc.pid]  # helper -> reaper -> command
        with open(f"/proc/{reaper}/comm") as comm:
            assert comm.read() == "cntr-tui-reaper\n"
        assert status_field(reaper, "NSpid")[-1] < pid_inside  # inside the container too
        fds = {os.readlink(f"/proc/{reaper}/fd/{fd}") for fd in os.listdir(f"/proc/{reaper}/fd")}
        sockets = {fd for fd in fds if fd.startswith("socket:")}
        assert session.hold is not None
        hold = f"socket:[{os.fstat(session.hold.fileno()).st_ino}]"
        assert hold in sockets and len(sockets) == 2, fds  # the hold and its link, no channel
        # the exec closes O_CLOEXEC fds a moment after /proc shows the new cmdline
        command_fds = f"/proc/{command}/fd"
        assert wait_until(lambda: sorted(os.listdir(command_fds)) == ["0", "1", "2"]), {
            fd: os.readlink(f"{command_fds}/{fd}") for fd in os.listdir(command_fds)
        }
    assert proc.wait(10) == 128 + signal.SIGKILL  # closing the session killed it
    assert wait_until(lambda: not host_processes_with(sleep))


def test_closing_the_session_ends_the_whole_tree(container):
    before = children(container.pid)
    sleep = unique_sleep()
    sleep_ = " ".join(sleep)
    # an orphan with a child, an orphan, and the command itself
    script = f"setsid -f sh -c '{sleep_}; true'; setsid -f {sleep_}; exec {sleep_}"
    with AttachSession(container.pid) as session:
        proc = session.spawn(["sh", "-c", script])
        assert wait_until(lambda: len(host_processes_with(sleep)) == 3)
    assert proc.returncode == 128 + signal.SIGKILL
    assert not host_processes_with(sleep)
    assert_init_has_no_new_children(container.pid, before)


def test_a_killed_reaper_takes_the_command_down(start_container):
    container = start_container("docker")
    with AttachSession(container.pid) as session:
        proc = session.spawn(unique_sleep())
        command = proc.command_pid
        reaper = status_field(command, "PPid")[0]
        os.kill(reaper, signal.SIGKILL)
        assert proc.wait(10) == 128 + signal.SIGKILL
        # the parent-death signal killed it; the container's init got it (documented)
        assert wait_until(
            lambda: not os.path.exists(f"/proc/{command}") or (process_state(command) == "Z")
        )


async def test_gdb_session_through_the_launcher_leaves_no_zombie(start_container):
    container = start_container("docker")
    before = children(container.pid)
    launcher = await AttachLauncher.start(container.pid)
    session = await GdbSession.start(launcher)
    try:
        attached = await session.attach(
            status_field(container.pid, "NSpid")[-1], host_pid=container.pid
        )
        assert attached.ok, attached.error
        assert (await session.backtrace()).ok
        assert (await session.detach()).ok
    finally:
        await session.close()
    assert_init_has_no_new_children(container.pid, before)


def test_signals_forwarded_ignored_and_sigterm_on_the_reaper(start_container):
    container = start_container("docker")
    before = children(container.pid)
    sleep = unique_sleep()
    with AttachSession(container.pid) as session:
        proc = session.spawn([*sleep])
        reaper = status_field(proc.command_pid, "PPid")[0]
        os.kill(reaper, signal.SIGINT)  # a terminal's ^C reaches it too: it ignores it
        os.kill(proc.pid, signal.SIGINT)  # the helper forwards it to the command
        assert proc.wait(10) == 128 + signal.SIGINT
        proc = session.spawn(orphan_then(sleep, f"exec {' '.join(sleep)}"), stdout=subprocess.PIPE)
        assert proc.stdout is not None and proc.stdout.readline() == b"up\n"
        reaper = status_field(proc.command_pid, "PPid")[0]
        os.kill(reaper, signal.SIGTERM)  # ends the command and its orphan
        assert proc.wait(10) == 128 + signal.SIGKILL
        assert not host_processes_with(sleep)
    assert_init_has_no_new_children(container.pid, before)
