"""`AttachSession.spawn(pass_fds=...)`: a descriptor of ours reaches the command, and
only it.

The gdb engine hands gdbserver, chrooted into the container's root, an O_PATH
descriptor of a host folder and names its files as `/proc/self/fd/N/...`. The command
must see it at N and reach the host folder through it from inside the chroot; the
session's helper and reaper must not keep it, nor may any other command of the session
get it.
"""

from __future__ import annotations

import asyncio
import os
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from cntr_tui.attach.session import AttachOptions, AttachSession, SessionProcess
from cntr_tui.gdb.attached import AttachLauncher
from tests.support.attach import wait_until
from tests.support.fds import fds_naming, same_file
from tests.support.proc import command_lines, parent_of

MARKER = "only on the host\n"


@pytest.fixture
def host_folder(host_dir: Path) -> Iterator[tuple[Path, int]]:
    """A host folder with a marker file, and an O_PATH descriptor of it (ours, 3+)."""
    (host_dir / "marker").write_text(MARKER)
    fd = os.open(host_dir, os.O_PATH | os.O_DIRECTORY | os.O_CLOEXEC)
    try:
        yield host_dir, fd
    finally:
        os.close(fd)


def file_mappings(pid: int) -> dict[str, tuple[int, int, int]]:
    """Files mapped by host process `pid` (paths as we see them): device and inode."""
    mapped = {}
    with open(f"/proc/{pid}/maps") as maps:
        for line in maps:
            fields = line.split()
            if len(fields) >= 6 and fields[5].startswith("/"):
                major, minor = (int(part, 16) for part in fields[3].split(":"))
                mapped[fields[5]] = (major, minor, int(fields[4]))
    return mapped


def spawn_reader(session: AttachSession, script: str, **kwargs: object) -> SessionProcess:
    """`sh -c script` with a pipe on stdin (it waits on `read`) and one on stdout."""
    return session.spawn(
        ["/bin/sh", "-c", script],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        **kwargs,  # type: ignore[arg-type]
    )


def finish(process: SessionProcess) -> bytes:
    output, _ = process.communicate(b"\n", timeout=30)
    return output


@pytest.mark.parametrize("fs", ["none", "fuse"])
def test_the_command_alone_gets_the_descriptor(start_container, host_folder, fs):
    folder, fd = host_folder
    container = start_container("docker")
    with AttachSession(container.pid, AttachOptions(fs=fs)) as session:
        # chrooted into the container's root: the host folder is reachable only by fd
        first = spawn_reader(
            session,
            f"cat /proc/self/fd/{fd}/marker; echo ok; read line",
            pass_fds=[fd],
            in_container_root=True,
        )
        second = None
        try:
            assert first.stdout is not None
            assert first.stdout.readline().decode() == MARKER
            assert first.stdout.readline() == b"ok\n"
            # while it runs: the command has it at our number, its helper and reaper not
            assert fds_naming(first.command_pid, folder) == [fd]
            reaper = parent_of(first.command_pid)
            assert parent_of(reaper) == first.pid
            assert fds_naming(first.pid, folder) == []  # closed before it answered
            # the reaper closes its copy right after forking the command
            assert wait_until(lambda: fds_naming(reaper, folder) == [])
            # a second command of the session, started while we hold the fd, has none
            second = spawn_reader(session, f"ls /proc/self/fd/{fd}/ 2>&1; echo ok; read line")
            assert second.stdout is not None
            listing = second.stdout.readline()
            assert b"marker" not in listing
            assert second.stdout.readline() == b"ok\n"
            assert fds_naming(second.command_pid, folder) == []
            assert fds_naming(second.pid, folder) == []
        finally:
            for process in (first, second):
                if process is not None:
                    finish(process)
        assert first.returncode == 0


def test_descriptors_below_3_are_refused(start_container):
    container = start_container("process")
    with AttachSession(container.pid, AttachOptions(fs="none")) as session:
        with pytest.raises(ValueError):
            session.spawn(["true"], pass_fds=[1])
        assert session.run(["true"]) == 0  # the session is fine


def waits_for_its_client(pid: int) -> bool:
    """gdbserver on stdin/stdout is in poll(2) (syscall 7 on x86-64) once its loader
    has mapped everything and it waits for gdb: before that its mappings are partial."""
    try:
        with open(f"/proc/{pid}/syscall") as file:
            return file.read().split(" ", 1)[0] == "7"
    except OSError:
        return False


def gdbserver_processes() -> list[int]:
    return [
        pid
        for pid, argv in command_lines().items()
        if "gdbserver\0--once\0--multi" in "\0".join(argv)
    ]


async def test_gdbserver_runs_from_the_hosts_files(start_container):
    """The launcher's gdbserver: its files mapped from the host's disk (not through the
    merged root), the folder held by it alone, and gone with the launcher."""
    container = start_container("docker")
    launcher = await AttachLauncher.start(container.pid)
    try:
        server = await launcher.start_gdbserver()
        assert server is not None
        with open(f"/proc/{server.host_pid}/cmdline", "rb") as file:
            argv = file.read().split(b"\0")
        assert argv[0].startswith(b"/proc/self/fd/")
        fd = int(argv[0].split(b"/")[4])
        files = launcher.starts._gdbserver_files
        assert files is not None
        assert fds_naming(server.host_pid, Path(files.root)) == [fd]
        loader = os.stat(files.loader)
        assert same_file(f"/proc/{server.host_pid}/exe", loader)
        assert wait_until(lambda: waits_for_its_client(server.host_pid))
        # every file it maps (program, libraries, libthread_db) is the host's file of
        # that path: same device and inode, nothing served by the file server
        mapped = file_mappings(server.host_pid)
        assert os.path.realpath(files.program) in mapped
        assert set(files.preload) <= set(mapped)
        for path, (major, minor, inode) in mapped.items():
            on_host = os.stat(path)
            assert (os.major(on_host.st_dev), os.minor(on_host.st_dev), on_host.st_ino) == (
                major,
                minor,
                inode,
            ), path
        helper = parent_of(parent_of(server.host_pid))
        assert fds_naming(helper, Path(files.root)) == []
        server.close_ends()
    finally:
        await launcher.close()
    assert wait_until(lambda: not os.path.exists(f"/proc/{server.host_pid}"))


@pytest.mark.parametrize("proc_mounted", [True, False])
async def test_without_proc_there_is_no_gdbserver(start_container, proc_mounted):
    """A container without /proc cannot name the folder: no gdbserver (gdb traces),
    nothing left behind. The same container with /proc gets one."""
    program = "/app/threads" if proc_mounted else "/bin/sh -c 'umount /proc && exec /app/threads'"
    container = start_container("process", program=program)
    assert bool(os.listdir(f"/proc/{container.pid}/root/proc")) == proc_mounted
    launcher = await AttachLauncher.start(container.pid, AttachOptions(fs="none"))
    try:
        before = set(gdbserver_processes())
        server = await asyncio.wait_for(launcher.start_gdbserver(), 30)
        assert (server is not None) == proc_mounted
        if server is not None:
            server.close_ends()  # never attached: it exits
        else:
            assert set(gdbserver_processes()) <= before
            # the reason `cntr-tui gdb --batch` prints when gdb has to trace
            assert "could not start in the container" in (launcher.gdbserver_failure or "")
    finally:
        await launcher.close()
    assert wait_until(lambda: set(gdbserver_processes()) <= before)
