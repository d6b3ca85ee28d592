"""What the details panel shows of a container, read from /proc (blocking: a thread).

The fields come from `cntr_tui.attach.process`; the tree is every process in the main
process's PID namespace (so `docker exec`'d processes, children of the runtime's shim
rather than of the container's PID 1, are in it too), arranged by parent.
"""

from __future__ import annotations

import contextlib
import os
from dataclasses import dataclass, field

from cntr_tui.attach import process
from cntr_tui.attach.container import Container

ALL_CAPABILITIES = 41  # CAP_CHOWN .. CAP_CHECKPOINT_RESTORE
SECCOMP_MODES = {0: "off", 1: "strict", 2: "filter"}


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
    seccomp: str = "?"
    processes: list[ProcessNode] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)

    def rows(self) -> list[tuple[str, str]]:
        return [("user", self.user), ("caps", self.capabilities), ("seccomp", self.seccomp)]


def capability_summary(capabilities: process.Capabilities) -> str:
    names = capabilities.effective_names
    if len(names) >= ALL_CAPABILITIES:
        return "all"
    return " ".join(name.removeprefix("cap_").lower() for name in names) or "none"


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
    for pid in process.pids():
        if pid != main_pid and (namespace is None or pid_namespace(pid) != namespace):
            continue
        with contextlib.suppress(OSError, KeyError, ValueError):
            status = process.status(pid)
            nodes[pid] = ProcessNode(pid, status.nspids[-1], status.name, status.threads)
            parents[pid] = status.ppid
    roots: list[ProcessNode] = []
    for pid, node in sorted(nodes.items()):
        parent = nodes.get(parents[pid])
        (parent.children if parent is not None else roots).append(node)
    return roots


def read_facts(container: Container) -> ContainerFacts:
    facts = ContainerFacts()
    try:
        status = process.status(container.pid)
    except (OSError, KeyError, ValueError) as error:
        facts.warnings.append(f"cannot read /proc/{container.pid}/status: {error}")
        return facts
    facts.user = f"uid {status.uids[1]} gid {status.gids[1]}"
    facts.capabilities = capability_summary(status.capabilities)
    facts.seccomp = SECCOMP_MODES.get(status.seccomp, str(status.seccomp))
    if status.no_new_privs:
        facts.seccomp += ", no_new_privs"
    facts.processes = process_tree(container.pid)
    return facts
