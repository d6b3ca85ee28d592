"""Spare attach helpers (spare.py): started before the container is known, given their
command's stdio, the merged root's hold and pass_fds as descriptors with the plan.

The command must get exactly what a helper of its own would have given it: its stdio,
the pass_fds at our numbers, nothing else, and the normal CPU policy; a spare never
used must end (closed by its owner, or its owner gone), and `cntr-tui gdb` must leave
none behind on bad input."""

from __future__ import annotations

import os
import subprocess
import sys
import uuid
from pathlib import Path

import pytest

from cntr_tui import cli
from cntr_tui.attach import spare as spare_module
from cntr_tui.attach.cgroups import cgroup_procs_files
from cntr_tui.attach.session import AttachOptions, AttachSession
from cntr_tui.attach.spare import SpareHelper
from cntr_tui.linux import cgroups as linux_cgroups
from tests.support.attach import CLI, wait_until
from tests.support.fds import fds_naming, same_file
from tests.support.proc import parent_of, processes_with_environment


def descriptors(pid: int) -> set[int]:
    return {int(fd) for fd in os.listdir(f"/proc/{pid}/fd")}


def gone(pid: int) -> bool:
    """Exited and reaped (or a zombie waiting for a reaper that is not us)."""
    try:
        with open(f"/proc/{pid}/stat") as stat:
            return stat.read().rpartition(")")[2].split()[0] in ("Z", "X")
    except FileNotFoundError:
        return True


def channel_number_in(spare: SpareHelper) -> int:
    """The number of the spare's channel in its helper (its last argument)."""
    return int(spare.process.args[-1])  # type: ignore[index]


@pytest.mark.parametrize("fs", ["none", "fuse"])
def test_a_spare_runs_the_command_with_its_stdio_and_pass_fds(start_container, host_dir, fs):
    container = start_container("docker")
    spare = SpareHelper.start()
    # our descriptor at the number the spare's channel has in the helper (free here:
    # that end is closed in this process): the helper must move its channel out of the
    # way before it installs this one
    folder = os.open(host_dir, os.O_PATH | os.O_DIRECTORY | os.O_CLOEXEC)
    passed = channel_number_in(spare)
    if folder != passed:
        os.dup2(folder, passed, inheritable=False)
        os.close(folder)
    stdin_read, stdin_write = os.pipe2(os.O_CLOEXEC)
    stdout_read, stdout_write = os.pipe2(os.O_CLOEXEC)
    try:
        with AttachSession(container.pid, AttachOptions(fs=fs)) as session:
            process = session.spawn(
                ["cat"],
                stdin=stdin_read,
                stdout=stdout_write,
                stderr=subprocess.STDOUT,
                pass_fds=[passed],
                spare=spare,
            )
            os.close(stdin_read)
            os.close(stdout_write)
            assert process is spare.process
            assert spare.take() is None  # used once
            command = process.command_pid
            # the command: its stdio and our descriptor at our number, nothing else
            assert descriptors(command) == {0, 1, 2, passed}
            assert fds_naming(command, host_dir) == [passed]
            assert same_file(f"/proc/{command}/fd/0", os.fstat(stdin_write))
            assert same_file(f"/proc/{command}/fd/1", os.fstat(stdout_read))
            assert same_file(f"/proc/{command}/fd/2", os.fstat(stdout_read))
            assert os.sched_getscheduler(command) == os.SCHED_OTHER
            # the helper and the reaper do not keep it; the helper keeps the hold
            reaper = parent_of(command)
            assert parent_of(reaper) == process.pid
            assert fds_naming(process.pid, host_dir) == []
            assert wait_until(lambda: fds_naming(reaper, host_dir) == [])
            if session.hold is not None:
                hold = os.fstat(session.hold.fileno())
                assert same_file(f"/proc/{process.pid}/fd/{session.hold.fileno()}", hold)
            os.write(stdin_write, b"through the spare\n")
            os.close(stdin_write)
            stdin_write = -1
            with os.fdopen(stdout_read, "rb") as output:
                stdout_read = -1
                assert output.read() == b"through the spare\n"
            assert process.wait(30) == 0
    finally:
        for fd in (stdin_write, stdout_read, passed):
            if fd >= 0:
                os.close(fd)
        spare.close()


def test_a_spare_is_not_used_for_pipes_and_ends_on_close(start_container):
    container = start_container("process")
    spare = SpareHelper.start()
    with AttachSession(container.pid, AttachOptions(fs="none")) as session:
        process = session.spawn(
            ["echo", "own helper"], stdout=subprocess.PIPE, in_container_root=True, spare=spare
        )
        assert process is not spare.process
        output, _ = process.communicate(timeout=30)
        assert output == b"own helper\n"
    assert spare.process.returncode is None  # still waiting for a plan
    spare.close()
    assert spare.process.returncode is not None and gone(spare.process.pid)
    spare.close()  # idempotent
    assert spare.take() is None


def test_a_spare_ends_when_its_owner_exits():
    owner = subprocess.run(
        [
            sys.executable,
            "-c",
            "import os; from cntr_tui.attach.spare import SpareHelper; "
            "print(SpareHelper.start().process.pid, flush=True); os._exit(0)",
        ],
        capture_output=True,
        text=True,
        timeout=30,
        check=True,
    )
    spare_pid = int(owner.stdout)
    assert wait_until(lambda: gone(spare_pid))


def test_cli_gdb_bad_container_ends_its_spares(monkeypatch, capsys):
    started: list[SpareHelper] = []
    start = SpareHelper.start

    def recorded() -> SpareHelper:
        started.append(start())
        return started[-1]

    monkeypatch.setattr(spare_module.SpareHelper, "start", staticmethod(recorded))
    code = cli.main(["gdb", "no-such-container-cntr-spare", "--batch", "-ex", "bt"])
    assert code != 0
    assert capsys.readouterr().err.count("\n") == 1
    assert len(started) == 2  # gdb's and gdbserver's
    for spare in started:  # killed and reaped by the command itself
        assert spare.process.returncode is not None
        assert not os.path.exists(f"/proc/{spare.process.pid}")


def test_cli_gdb_bad_container_leaves_no_process():
    marker = f"CNTR_TUI_SPARE_TEST={uuid.uuid4().hex}"
    name, _, value = marker.partition("=")
    result = subprocess.run(
        [*CLI, "gdb", "no-such-container-cntr-spare", "--batch", "-ex", "bt"],
        capture_output=True,
        text=True,
        timeout=60,
        env={**os.environ, name: value},
    )
    assert result.returncode != 0
    assert result.stderr.startswith("cntr-tui: ") and result.stderr.count("\n") == 1
    # the helpers inherit our environment: none carrying the marker may be left
    assert processes_with_environment(marker) == []


def cgroups_of(pid: int) -> set[tuple[int, str]]:
    return {(entry.hierarchy, entry.path) for entry in linux_cgroups.cgroups(pid)}


def test_spares_joined_early_run_their_command_in_the_container_cgroups(start_container):
    """`cntr-tui gdb` moves its spares into the container's cgroups while it opens the
    session: the command they run is in those cgroups; a process that is gone moves
    none (the spawn then moves its helper itself)."""
    container = start_container("docker")
    spares = [SpareHelper.start(), SpareHelper.start()]
    lone = SpareHelper.start()
    try:
        spare_module.join_cgroups_early(spares, container.pid).join()
        expected = cgroups_of(container.pid)
        assert all(cgroups_of(spare.process.pid) == expected for spare in spares)
        spare_module.join_cgroups_early([lone], 2**22 + 1).join()  # no such process
        assert lone.joined == () and cgroups_of(lone.process.pid) == cgroups_of(os.getpid())
        with AttachSession(container.pid, AttachOptions(fs="none")) as session:
            assert spares[0].joined == tuple(session.cgroup_files)
            for spare in (spares[0], lone):
                helper = session.spawn(
                    ["sleep", "60"],
                    stdin=subprocess.DEVNULL,
                    stdout=subprocess.DEVNULL,
                    stderr=subprocess.DEVNULL,
                    spare=spare,
                )
                assert parent_of(parent_of(helper.command_pid)) == spare.process.pid
                assert cgroups_of(helper.command_pid) == expected
    finally:
        for spare in (*spares, lone):
            spare.close()


def test_cli_gdb_on_a_paused_container_says_so_and_leaves_no_spare(start_container):
    """A paused container is refused before anything joins its cgroups: a spare moved
    into a frozen cgroup would freeze, and could be neither killed nor reaped."""
    container = start_container("docker")
    files = cgroup_procs_files(container.pid)

    def members() -> list[set[str]]:
        return [set(Path(path).read_text().split()) for path in files]

    before = members()
    subprocess.run(["docker", "pause", container.name], check=True, capture_output=True)
    try:
        result = subprocess.run(
            [*CLI, "gdb", container.name, "--batch", "-ex", "bt"],
            capture_output=True,
            text=True,
            timeout=60,
        )
        during = members()
    finally:
        subprocess.run(["docker", "unpause", container.name], check=True, capture_output=True)
    assert result.returncode != 0 and "paused" in result.stderr
    assert result.stderr.count("\n") == 1, result.stderr
    assert during == before and str(container.pid) in before[0]
