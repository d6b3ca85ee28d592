"""What the details panel shows of a container, read from /proc (blocking: a thread).

The fields come from `cntr_tui.linux`; the tree is every process in the main
process's PID namespace (so `docker exec`'d processes, children of the runtime's shim
rather than of the container's PID 1, are in it too), arranged by parent. The records
(`ContainerFacts`, `ProcessNode`) are in `attach.container`: the UI imports those and
never this reader's /proc code.
"""

from __future__ import annotations

import contextlib

from cntr_tui.attach.container import Container, ContainerFacts, ProcessNode
from cntr_tui.linux.capabilities import CAPABILITY_NAMES, Capabilities
from cntr_tui.linux.namespaces import namespace_inode_or_none
from cntr_tui.linux.process_status import SECCOMP_MODES, status
from cntr_tui.linux.procfs import pids

ALL_CAPABILITIES = len(CAPABILITY_NAMES)  # CAP_CHOWN .. CAP_CHECKPOINT_RESTORE


def capability_summary(capabilities: Capabilities) -> str:
    names = capabilities.effective_names
    if len(names) >= ALL_CAPABILITIES:
        return "all"
    return " ".join(name.removeprefix("cap_").lower() for name in names) or "none"


def pid_namespace_tree(main_pid: int) -> list[ProcessNode]:
    """Every process in the main process's PID namespace, as a tree by parent."""
    namespace = namespace_inode_or_none(main_pid, "pid")
    nodes: dict[int, ProcessNode] = {}
    parents: dict[int, int] = {}
    for pid in pids():
        if pid != main_pid and (
            namespace is None or namespace_inode_or_none(pid, "pid") != namespace
        ):
            continue
        with contextlib.suppress(OSError, KeyError, ValueError):
            found = status(pid)
            nodes[pid] = ProcessNode(pid, found.nspids[-1], found.name, found.threads)
            parents[pid] = found.ppid
    roots: list[ProcessNode] = []
    for pid, node in sorted(nodes.items()):
        parent = nodes.get(parents[pid])
        (parent.children if parent is not None else roots).append(node)
    return roots


def read_facts(container: Container) -> ContainerFacts:
    facts = ContainerFacts()
    try:
        found = status(container.pid)
    except (OSError, KeyError, ValueError) as error:
        facts.warnings.append(f"cannot read /proc/{container.pid}/status: {error}")
        return facts
    facts.user = f"uid {found.uids[1]} gid {found.gids[1]}"
    facts.capabilities = capability_summary(found.capabilities)
    facts.seccomp = SECCOMP_MODES.get(found.seccomp, str(found.seccomp))
    if found.no_new_privs:
        facts.seccomp += ", no_new_privs"
    facts.processes = pid_namespace_tree(container.pid)
    return facts
