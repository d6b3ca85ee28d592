"""The Linux layer's process readers (cntr_tui.linux) and attach.process's scan, against
this process and a real container's main process."""

from __future__ import annotations

import os
import subprocess
import sys
import time

import pytest

from cntr_tui.attach import process
from cntr_tui.attach.container import NAMESPACE_KINDS
from cntr_tui.linux import capabilities as linux_capabilities
from cntr_tui.linux import cgroups as linux_cgroups
from cntr_tui.linux import idmaps, namespaces, proc_stat, process_status, procfs


def unused_pid() -> int:
    with open("/proc/sys/kernel/pid_max") as file:
        limit = int(file.read())
    for pid in range(limit - 1, 1, -1):
        if not os.path.exists(f"/proc/{pid}"):
            return pid
    raise AssertionError("no free pid")


def test_own_process_is_the_host_reference() -> None:
    assert namespaces.namespaces_differing(os.getpid()) == frozenset()
    assert set(namespaces.namespace_ids("self")) <= set(NAMESPACE_KINDS)
    with open("/proc/self/comm") as file:
        assert procfs.comm(os.getpid()) == file.read().strip()
    assert procfs.read_environ(os.getpid())["PATH"] == os.environ["PATH"]
    assert procfs.read_cmdline(os.getpid()) == sys.orig_argv
    status = process_status.status(os.getpid())
    assert status.ppid == os.getppid()
    assert status.uids[1] == os.geteuid() and status.gids[1] == os.getegid()
    assert status.nspids[-1] == os.getpid()
    assert abs(proc_stat.start_time(os.getpid()) - time.time()) < 24 * 3600


def test_missing_process_raises_process_gone() -> None:
    pid = unused_pid()
    for read in (
        namespaces.namespace_ids,
        procfs.read_environ,
        process_status.status,
        procfs.children,
        proc_stat.start_time,
        linux_cgroups.cgroups,
    ):
        with pytest.raises(ProcessLookupError):
            read(pid)


def test_capability_names() -> None:
    mask = 1 << linux_capabilities.CAP_SYS_PTRACE | 1 << linux_capabilities.CAP_SYS_CHROOT
    assert linux_capabilities.capability_names(mask) == ["sys_chroot", "sys_ptrace"]
    caps = linux_capabilities.Capabilities(0, mask, mask, mask, 0)
    assert caps.has(linux_capabilities.CAP_SYS_PTRACE) and not caps.has(
        linux_capabilities.CAP_SYS_ADMIN
    )


def test_id_map_parsing() -> None:
    maps = idmaps.IdMaps(
        uid=idmaps.parse_id_map("         0     100000      65536\n"),
        gid=idmaps.parse_id_map("0 0 4294967295\n"),
    )
    assert maps.host_uid(0) == 100000 and maps.host_uid(65535) == 165535
    assert maps.host_uid(65536) is None
    assert maps.host_gid(42) == 42


def test_container_process_facts(start_container) -> None:
    started = start_container("docker")
    pid = started.pid
    differing = namespaces.namespaces_differing(pid)
    assert {"mnt", "pid", "uts", "ipc"} <= differing
    # docker without userns-remap shares the host's user namespace
    assert "user" not in differing
    status = process_status.status(pid)
    assert status.nspids[-1] == 1, "the main process is PID 1 inside its namespace"
    assert status.threads == 4, "main thread and worker-0..2"
    caps = process_status.capabilities(pid)
    assert caps.effective == status.capabilities.effective
    assert "sys_admin" not in caps.effective_names, "docker drops CAP_SYS_ADMIN"
    assert "chown" in caps.effective_names
    environ = procfs.read_environ(pid)
    assert environ["HOSTNAME"] == docker_hostname(started.name)
    assert any(started_id_in(entry.path, started.name) for entry in linux_cgroups.cgroups(pid))
    assert procfs.command_line(pid) == "/app/threads"
    assert proc_stat.ancestors(pid)[-1] >= 1
    launcher = proc_stat.ancestors(pid)[0]
    tree = process.process_tree(launcher)
    assert pid in [node.pid for _, node in tree.walk()]


def docker_hostname(name: str) -> str:
    return subprocess.run(
        ["docker", "inspect", "-f", "{{.Config.Hostname}}", name],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()


def started_id_in(path: str, name: str) -> bool:
    full_id = subprocess.run(
        ["docker", "inspect", "-f", "{{.Id}}", name], capture_output=True, text=True, check=True
    ).stdout.strip()
    return full_id in path


def test_scan_processes_sees_a_plain_namespaced_process(start_container) -> None:
    started = start_container("process")
    table = process.scan_processes()
    info = table[started.pid]
    host = namespaces.host_namespace_ids()
    assert info.pid_ns != host["pid"] and info.mnt_ns != host["mnt"]
    assert info.comm == "threads"
    assert info.ppid in table and table[info.ppid].pid_ns == host["pid"]
    assert abs(info.started_at - proc_stat.start_time(started.pid)) < 0.01
    assert table[os.getpid()].pid_ns == host["pid"]
