"""The process a front end wants to debug."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from cntr_tui.attach.container import Container
from cntr_tui.errors import UserError
from cntr_tui.gdb.settings import ForkOptions

__all__ = ["DebugTarget", "ForkOptions", "find_target", "host_pid_of", "target_for"]


@dataclass(frozen=True)
class DebugTarget:
    """`host_pid`: the process as the host sees it; `namespace_pid`: as its own PID
    namespace sees it; `container`: the container it belongs to (None for a bare host
    PID); `label`: how messages name it ("docker web"); `non_stop`: debug it in gdb's
    non-stop mode (one thread stops alone, the others run on); `forks`: what gdb does at
    its forks (follow-fork-mode, detach-on-fork), set before the attach."""

    host_pid: int
    namespace_pid: int
    container: Container | None
    label: str
    non_stop: bool = False
    forks: ForkOptions = field(default_factory=ForkOptions)


def target_for(container: Container, host_pid: int | None = None) -> DebugTarget:
    """The container's main process, or `host_pid` (a host PID of one of its processes)."""
    pid = host_pid if host_pid is not None else container.pid
    return DebugTarget(pid, namespace_pid(pid), container, f"{container.runtime} {container.name}")


def namespace_pid(host_pid: int) -> int:
    """The PID of a host process as its own PID namespace sees it (last NSpid field)."""
    from cntr_tui.linux.proc_status import pid_in_namespace

    try:
        return pid_in_namespace(host_pid)
    except OSError as error:
        raise UserError(f"process {host_pid} is gone") from error


def host_pid_of(container_host_pid: int, pid_in_container: int) -> int:
    """The host PID of `pid_in_container`, a PID in the namespace of a container process."""
    from cntr_tui.linux.namespaces import members, namespace_inode

    try:
        namespace = namespace_inode(container_host_pid, "pid")
    except OSError as error:
        raise UserError(f"process {container_host_pid} is gone") from error
    for pid in members(namespace, "pid"):
        try:
            if namespace_pid(pid) == pid_in_container:
                return pid
        except UserError:
            continue
    raise UserError(f"no process {pid_in_container} in the container's PID namespace")


def find_target(word: str, types: Sequence[str] | None, pid: int | None) -> DebugTarget:
    """The container a user's word names (or the process `pid` in it), refused when
    something already traces it."""
    from cntr_tui.attach.lookup import resolve

    container = resolve(word, types)
    target = target_for(container, host_pid_of(container.pid, pid) if pid is not None else None)
    from cntr_tui.preflight.tracer import tracer_refusal

    if (check := tracer_refusal(target.host_pid)) is not None:
        raise UserError(f"process {target.host_pid} is {check.detail} ({check.fix})")
    return target
