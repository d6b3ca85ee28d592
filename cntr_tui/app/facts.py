"""What the details panel shows of a container, read from /proc.

Uses `cntr_tui.attach.process` when it offers the facts; otherwise reads the few
/proc fields the panel needs itself, so the panel never stays empty.
"""

from __future__ import annotations

import contextlib
import os
from dataclasses import dataclass, field

from cntr_tui.attach.container import Container

CAPABILITY_NAMES = [
    "chown",
    "dac_override",
    "dac_read_search",
    "fowner",
    "fsetid",
    "kill",
    "setgid",
    "setuid",
    "setpcap",
    "linux_immutable",
    "net_bind_service",
    "net_broadcast",
    "net_admin",
    "net_raw",
    "ipc_lock",
    "ipc_owner",
    "sys_module",
    "sys_rawio",
    "sys_chroot",
    "sys_ptrace",
    "sys_pacct",
    "sys_admin",
    "sys_boot",
    "sys_nice",
    "sys_resource",
    "sys_time",
    "sys_tty_config",
    "mknod",
    "lease",
    "audit_write",
    "audit_control",
    "setfcap",
    "mac_override",
    "mac_admin",
    "syslog",
    "wake_alarm",
    "block_suspend",
    "audit_read",
    "perfmon",
    "bpf",
    "checkpoint_restore",
]


@dataclass
class ProcessNode:
    pid: int
    container_pid: int
    name: str
    threads: int = 1
    children: list[ProcessNode] = field(default_factory=list)


@dataclass
class ContainerFacts:
    user: str = "?"
    capabilities: str = "?"
    processes: list[ProcessNode] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)

    def rows(self) -> list[tuple[str, str]]:
        return [("user", self.user), ("caps", self.capabilities)]

    def all_processes(self) -> list[ProcessNode]:
        found: list[ProcessNode] = []
        stack = list(self.processes)
        while stack:
            node = stack.pop(0)
            found.append(node)
            stack[:0] = node.children
        return found


def read_status(pid: int) -> dict[str, str]:
    fields: dict[str, str] = {}
    with open(f"/proc/{pid}/status", encoding="utf-8", errors="replace") as status:
        for line in status:
            name, _, value = line.partition(":")
            fields[name] = value.strip()
    return fields


def capability_summary(mask: int) -> str:
    full = (1 << len(CAPABILITY_NAMES)) - 1
    if mask & full == full:
        return "all"
    names = [name for bit, name in enumerate(CAPABILITY_NAMES) if mask & (1 << bit)]
    return " ".join(names) or "none"


def pid_namespace(pid: int) -> str | None:
    try:
        return os.readlink(f"/proc/{pid}/ns/pid")
    except OSError:
        return None


def process_tree(main_pid: int) -> list[ProcessNode]:
    """Every process in the main process's PID namespace, as a tree by parent."""
    namespace = pid_namespace(main_pid)
    nodes: dict[int, ProcessNode] = {}
    parents: dict[int, int] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        pid = int(entry)
        if pid != main_pid and (namespace is None or pid_namespace(pid) != namespace):
            continue
        try:
            status = read_status(pid)
        except OSError:
            continue
        nspids = status.get("NSpid", entry).split()
        nodes[pid] = ProcessNode(
            pid=pid,
            container_pid=int(nspids[-1]),
            name=status.get("Name", "?"),
            threads=int(status.get("Threads", "1")),
        )
        parents[pid] = int(status.get("PPid", "0"))
    roots: list[ProcessNode] = []
    for pid, node in sorted(nodes.items()):
        parent = nodes.get(parents[pid])
        (parent.children if parent is not None else roots).append(node)
    return roots


def read_facts(container: Container) -> ContainerFacts:
    """Blocking: call from a thread worker."""
    facts = ContainerFacts()
    try:
        status = read_status(container.pid)
    except OSError as error:
        facts.warnings.append(f"cannot read /proc/{container.pid}: {error.strerror}")
        return facts
    uid = status.get("Uid", "?").split()[0:2]
    gid = status.get("Gid", "?").split()[0:1]
    facts.user = f"uid {uid[0]} gid {gid[0]}" if uid and gid else "?"
    with contextlib.suppress(ValueError):
        facts.capabilities = capability_summary(int(status.get("CapEff", "0"), 16))
    facts.processes = process_tree(container.pid)
    return facts
