"""Records of one running container: `Container`, which every part of cntr-tui passes
around, and `ContainerFacts`/`ProcessNode`, what the details panel shows of it (read
by `attach.facts`). Records only: nothing here reads /proc, so the UI imports them.
"""

from __future__ import annotations

from dataclasses import dataclass, field

RUNTIMES = ("docker", "podman", "containerd", "lxc", "lxd", "nspawn", "process")
NAMESPACE_KINDS = ("mnt", "pid", "net", "ipc", "uts", "user", "cgroup")


@dataclass(frozen=True)
class KubernetesInfo:
    """Names Kubernetes (through CRI labels) gives a container; `uid` the pod's UID and
    `restart_count` the kubelet's count of this container's restarts, when known."""

    namespace: str
    pod: str
    container: str
    uid: str | None = None
    restart_count: int | None = None


@dataclass(frozen=True)
class Container:
    """One running (or paused) container, as found by its runtime.

    `pid` is the host PID of the container's main process; `namespaces` holds the
    kinds (from NAMESPACE_KINDS) in which that process differs from the host's PID 1.
    """

    runtime: str
    id: str
    name: str
    pid: int
    image: str | None = None
    status: str = "running"
    started_at: float | None = None
    namespaces: frozenset[str] = field(default_factory=frozenset)
    command: str = ""
    kubernetes: KubernetesInfo | None = None
    runtime_namespace: str | None = None  # containerd's namespace; LXD's project

    @property
    def key(self) -> tuple[str, str]:
        """Identity across listings: the same container keeps the same key."""
        return (self.runtime, self.id)


@dataclass
class ProcessNode:
    """A process in the container's PID namespace (`pid` the host's, `container_pid`
    the container's number) with its children there."""

    pid: int
    container_pid: int
    name: str
    threads: int = 1
    children: list[ProcessNode] = field(default_factory=list)


@dataclass
class ContainerFacts:
    """What the details panel shows of a container; "?" where it could not be read."""

    user: str = "?"
    capabilities: str = "?"
    seccomp: str = "?"
    processes: list[ProcessNode] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)

    def rows(self) -> list[tuple[str, str]]:
        return [("user", self.user), ("caps", self.capabilities), ("seccomp", self.seccomp)]
