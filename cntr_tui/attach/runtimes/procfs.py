"""Plain namespaced processes: containers no runtime knows, found in /proc (like lsns).

A process counts when both its mount and its PID namespace differ from the host's
(this process's). Such processes are grouped by PID namespace and each group is
reported once, by its topmost process (the namespace's init, normally). Processes in
the PID namespace of a container a runtime already found, or below one of its
processes, are left out: they belong to that container. So is a group whose topmost
process is the child of a runtime's supervisor (containerd-shim, conmon, lxc-start,
systemd-nspawn): a container being created or removed, which its runtime does not
list as running yet, or any more.
"""

from __future__ import annotations

from collections.abc import Iterable

from cntr_tui.attach.container import Container
from cntr_tui.attach.process import ProcessInfo
from cntr_tui.linux.namespaces import host_namespace_ids

RUNTIME = "process"
# Parents that mean "a runtime's container": while a runtime creates (or removes) a
# container, its process exists before (or after) the runtime lists it as running.
SUPERVISORS = ("containerd-shim", "conmon", "lxc-start", "systemd-nspawn", "runc", "crun")


def _inside_claimed(
    info: ProcessInfo, processes: dict[int, ProcessInfo], claimed_pids: set[int]
) -> bool:
    seen: set[int] = set()
    current: ProcessInfo | None = info
    while current is not None and current.pid not in seen:
        if current.pid in claimed_pids:
            return True
        seen.add(current.pid)
        current = processes.get(current.ppid)
    return False


def plain_containers(
    processes: dict[int, ProcessInfo], claimed_pids: Iterable[int]
) -> list[Container]:
    """One Container per PID namespace of namespaced processes no runtime claimed.

    `claimed_pids` are the main PIDs of the containers runtimes found.
    """
    host = host_namespace_ids()
    claimed = {pid for pid in claimed_pids if pid > 0}
    claimed_pid_namespaces = {processes[pid].pid_ns for pid in claimed if pid in processes}
    groups: dict[int, list[ProcessInfo]] = {}
    for info in processes.values():
        if not info.pid_ns or not info.mnt_ns:
            continue
        if info.pid_ns == host.get("pid") or info.mnt_ns == host.get("mnt"):
            continue
        if info.pid_ns in claimed_pid_namespaces:
            continue
        groups.setdefault(info.pid_ns, []).append(info)
    containers = []
    for members in groups.values():
        tops = [
            info
            for info in members
            if info.ppid not in processes or processes[info.ppid].pid_ns != info.pid_ns
        ]
        top = min(tops or members, key=lambda info: (info.start_ticks, info.pid))
        if _inside_claimed(top, processes, claimed):
            continue
        parent = processes.get(top.ppid)
        if parent is not None and parent.comm.startswith(SUPERVISORS):
            continue
        containers.append(
            Container(
                runtime=RUNTIME,
                id=str(top.pid),
                name=top.comm,
                pid=top.pid,
                started_at=top.started_at,
            )
        )
    return sorted(containers, key=lambda container: container.pid)
