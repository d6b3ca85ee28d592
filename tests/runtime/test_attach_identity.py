"""Who the attached command is: user, capability bounding set, cgroup, environment."""

from __future__ import annotations

import os
import subprocess

import pytest

from cntr_tui.attach.session import AttachOptions, AttachSession
from cntr_tui.errors import UserError
from cntr_tui.linux import capabilities as linux_capabilities
from cntr_tui.linux import cgroups as linux_cgroups
from cntr_tui.linux import process_status, procfs
from tests.support.attach import assert_nothing_left, wait_until


def run_waiting(session: AttachSession, check) -> None:
    """Start `cat` (it waits on its stdin), call check(host_pid) while it runs, end it."""
    cat = session.spawn(["cat"], stdin=subprocess.PIPE, stdout=subprocess.DEVNULL)
    try:
        check(cat.command_pid)
    finally:
        assert cat.stdin is not None
        cat.stdin.close()
        assert cat.wait(30) == 0


def test_capabilities_cgroup_and_environment(start_container):
    container = start_container("docker")
    container_status = process_status.status(container.pid)
    expected_bounding = container_status.capabilities.effective | (
        1 << linux_capabilities.CAP_SYS_PTRACE | 1 << linux_capabilities.CAP_SYS_CHROOT
    )
    container_cgroups = linux_cgroups.cgroups(container.pid)

    def inside(pid: int) -> None:
        status = process_status.status(pid)
        assert status.capabilities.bounding == expected_bounding
        assert status.uids[0] == 0 and status.nspids[-1] < status.nspids[0]
        assert linux_cgroups.cgroups(pid) == container_cgroups
        env = procfs.read_environ(pid)
        assert env.keys() - {"PATH"} <= procfs.read_environ(container.pid).keys() | {"PWD"}

    with AttachSession(container.pid) as session:
        run_waiting(session, inside)

    def outside_cgroup(pid: int) -> None:
        assert linux_cgroups.cgroups(pid) != container_cgroups

    with AttachSession(container.pid, AttachOptions(join_cgroup=False)) as session:
        run_waiting(session, outside_cgroup)


def helper_children() -> list[int]:
    """Attach helpers that are children of this process."""
    found = []
    for task in os.listdir("/proc/self/task"):
        with open(f"/proc/self/task/{task}/children") as file:
            for child in file.read().split():
                try:
                    with open(f"/proc/{child}/cmdline", "rb") as cmdline:
                        if b"cntr_tui.attach.helper" in cmdline.read():
                            found.append(int(child))
                except OSError:
                    pass  # exited meanwhile
    return found


def test_a_cgroup_gone_before_the_spawn_is_one_error(start_container):
    """The caller moves each helper into the container's cgroups: a cgroup that is gone
    by then (the container was restarted, say) fails the spawn, and no helper is left."""
    container = start_container("docker")
    with AttachSession(container.pid, AttachOptions(fs="none")) as session:
        assert session.cgroup_files
        gone = f"/sys/fs/cgroup/pids/cntr-test-gone-{os.getpid()}"
        session.cgroup_files = [*session.cgroup_files[:1], f"{gone}/cgroup.procs"]
        with pytest.raises(UserError) as raised:
            session.spawn(["true"])
        assert str(raised.value) == f"cannot join cgroup {gone}: No such file or directory"
        assert raised.value.exit_code == 125
        assert helper_children() == []
        session.cgroup_files = session.cgroup_files[:1]
        assert session.run(["true"]) == 0


def test_effective_user(start_container):
    container = start_container("docker")
    options = AttachOptions(effective_user="1000:1001")
    with AttachSession(container.pid, options) as session:
        proc = session.spawn(["id", "-u"], stdout=subprocess.PIPE)
        out, _ = proc.communicate(timeout=30)
        assert proc.returncode == 0 and out.strip() == b"1000"
        proc = session.spawn(["id", "-g"], stdout=subprocess.PIPE)
        assert proc.communicate(timeout=30)[0].strip() == b"1001"
    with AttachSession(container.pid, AttachOptions(effective_user="root")) as session:
        proc = session.spawn(["id", "-u"], stdout=subprocess.PIPE)
        assert proc.communicate(timeout=30)[0].strip() == b"0"


def test_process_that_vanishes_during_attach():
    """A plain namespaced process (new mnt and uts namespaces) that exits mid-session."""
    target = subprocess.Popen(["unshare", "--mount", "--uts", "sleep", "1000"])
    try:
        own_mnt = os.stat("/proc/self/ns/mnt").st_ino
        assert wait_until(lambda: os.stat(f"/proc/{target.pid}/ns/mnt").st_ino != own_mnt)
        session = AttachSession(target.pid)
        try:
            assert session.spawn(["true"]).wait(30) == 0
            target.kill()
            target.wait()
            with pytest.raises(UserError, match="exited"):
                session.spawn(["true"])
        finally:
            session.close()
    finally:
        target.kill()
        target.wait()
    assert_nothing_left(target.pid)
