"""Attach to a container of each of the six runtimes, through the session API."""

from __future__ import annotations

import subprocess

from cntr_tui.attach.session import AttachOptions, AttachSession
from cntr_tui.linux import process_status, procfs
from tests.support.attach import assert_nothing_left, pid_namespace_members


def container_hostname(pid: int) -> str:
    with open(f"/proc/{pid}/root/etc/hostname") as file:
        return file.read().strip()


def test_attach_to_every_runtime(any_container):
    pid = any_container.pid
    members = pid_namespace_members(pid)
    own_pid = process_status.status(pid).nspids[-1]  # the main process's PID inside
    script = (
        "cat /var/lib/cntr/etc/os-release; "
        f"tr '\\0' ' ' < /proc/{own_pid}/cmdline; echo; "
        "test -x /usr/bin/gdb && echo host-tools"
    )
    with AttachSession(pid) as session:
        proc = session.spawn(["sh", "-c", script], stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        out, err = proc.communicate(timeout=30)
        assert proc.returncode == 0, err
        assert session.spawn(["true"]).wait(30) == 0
        kinds = {mount.mount_point: mount.provenance for mount in session.mounts()}
    lines = out.decode().splitlines()
    assert "ID=cntr-demo" in lines
    assert lines[-2].strip() == " ".join(procfs.read_cmdline(pid))
    assert lines[-1] == "host-tools"
    assert kinds["/"] == "host" and kinds["/var/lib/cntr"] == "container"
    # exec: the container's own root, as if the container had started the command
    with AttachSession(pid, AttachOptions(fs="none")) as session:
        proc = session.spawn(
            ["/bin/sh", "-c", "grep ^ID= /etc/os-release; test -e /usr/bin/gdb || echo slim"],
            stdout=subprocess.PIPE,
            in_container_root=True,
        )
        assert proc.communicate(timeout=30)[0].split() == [b"ID=cntr-demo", b"slim"]
    assert_nothing_left(pid, members)
