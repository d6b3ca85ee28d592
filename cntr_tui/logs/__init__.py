"""A container's own log stream, read where its runtime keeps it.

`open_container_logs` picks the source for the container's runtime: docker's logs
through the SDK, podman's through `podman logs`, the CRI files of Kubernetes
containers, a plain containerd task's `file://` log, LXC's console log, a registered
nspawn machine's journal, and the main process's output where that is a regular file
(plain namespaced processes; containerd tasks and nspawn machines that have none of
the above). Every source is a `LogStream`
(debug.protocol's ContainerLogs): before its `lines()` nothing is read and no thread
or child process runs (the checks that say whether there is a log are a stat or a
config file); `close()` ends them all. A container without a log raises `NoLogs`,
whose message says why in one line.
"""

from __future__ import annotations

from cntr_tui.attach.container import Container
from cntr_tui.logs.stream import LogStream, NoLogs

__all__ = ["LogStream", "NoLogs", "open_container_logs"]


def open_container_logs(container: Container | None, pid: int, tail: int = 200) -> LogStream:
    """The log of `container` (None: the bare host process `pid`), its last `tail`
    lines first; NoLogs when there is none."""
    from cntr_tui.logs.procfs import process_logs

    if container is None:
        return process_logs(pid, tail, f"process {pid}")
    runtime, name = container.runtime, container.name
    if runtime == "docker":
        from cntr_tui.logs.docker import docker_logs

        return docker_logs(container, tail)
    if runtime == "podman":
        from cntr_tui.logs.podman import podman_logs

        return podman_logs(container, tail)
    if runtime == "lxc":
        from cntr_tui.logs.lxc import lxc_logs

        return lxc_logs(container, tail)
    if runtime == "containerd" and container.kubernetes is not None:
        from cntr_tui.logs.cri import cri_logs

        return cri_logs(container, tail)
    if runtime == "containerd":
        from cntr_tui.logs.containerd import containerd_logs

        try:
            return containerd_logs(container, tail)
        except NoLogs as error:
            return _output_or(container, tail, str(error))
    if runtime == "nspawn":
        from cntr_tui.logs.journal import journal_logs

        try:
            return journal_logs(container, tail)
        except NoLogs as error:
            return _output_or(container, tail, str(error))
    return process_logs(container.pid, tail, f"{runtime} {name}")


def _output_or(container: Container, tail: int, reason: str) -> LogStream:
    """The main process's output files; else NoLogs(`reason`, and why not those)."""
    from cntr_tui.logs.procfs import process_logs

    try:
        return process_logs(container.pid, tail, f"{container.runtime} {container.name}")
    except NoLogs as error:
        _, marker, why = str(error).partition(" keeps no log: ")
        detail = f"the main process's {why.removeprefix('its ')}" if marker else str(error)
        raise NoLogs(f"{reason}; {detail}") from None
