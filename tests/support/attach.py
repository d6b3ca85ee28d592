"""Helpers shared by the attach and fs tests: run the CLI, look for leftovers."""

from __future__ import annotations

import os
import subprocess
import sys

from tests.support import proc

CLI = [sys.executable, "-m", "cntr_tui.cli"]
SERVER_MODULE = b"cntr_tui.fs.server"


def cli(*args: str, env: dict[str, str] | None = None, timeout: float = 60):
    return subprocess.run(
        [*CLI, *args],
        stdin=subprocess.DEVNULL,
        capture_output=True,
        env=env,
        timeout=timeout,
    )


def cmdline(pid: int) -> bytes:
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as file:
            return file.read()
    except OSError:
        return b""


def server_processes(container_pid: int) -> list[int]:
    """FUSE/mount servers (and their holder, watchdog) started for this container."""
    marker = f"--pid={container_pid}".encode()
    return [
        int(entry)
        for entry in os.listdir("/proc")
        if entry.isdigit() and SERVER_MODULE in (line := cmdline(int(entry))) and marker in line
    ]


def mount_lines(pid: int | str, needle: str = "cntr-tui") -> list[str]:
    """Lines of `pid`'s mount table whose mount point, type or source names `needle`.
    Not the root field: a container root that is a copy under /var/tmp/cntr-tui-roots
    (the test bed's nspawn and containerd roots) is bound from there by its runtime."""
    try:
        with open(f"/proc/{pid}/mountinfo") as file:
            return [line for line in file if needle in " ".join(without_root_field(line))]
    except OSError:
        return []


def without_root_field(line: str) -> list[str]:
    fields = line.split()
    return fields[:3] + fields[4:]


def pid_namespace_members(container_pid: int) -> set[int]:
    inode = os.stat(f"/proc/{container_pid}/ns/pid").st_ino
    members = set()
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                if os.stat(f"/proc/{entry}/ns/pid").st_ino == inode:
                    members.add(int(entry))
            except OSError:
                pass
    return members


def wait_until(condition, timeout: float = 8.0) -> bool:
    """proc.wait_until with the attach tests' shorter default deadline."""
    return proc.wait_until(condition, timeout)


def assert_nothing_left(container_pid: int, members_before: set[int] | None = None) -> None:
    assert wait_until(lambda: not server_processes(container_pid)), "a server process remains"
    assert mount_lines("self") == [], "a session mount is in the host's table"
    assert mount_lines(container_pid) == [], "a session mount is in the container's table"
    if members_before is not None:
        assert wait_until(lambda: pid_namespace_members(container_pid) <= members_before), (
            "a session process remains in the container"
        )


def docker_diff(name: str) -> str:
    return subprocess.run(
        ["docker", "diff", name], capture_output=True, text=True, check=True
    ).stdout.strip()
