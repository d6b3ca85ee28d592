"""Kubernetes containers' logs: the files the CRI runtime writes under /var/log/pods.

The kubelet gives containerd's CRI plugin a path
`/var/log/pods/NAMESPACE_POD_UID/CONTAINER/RESTARTS.log`; containerd writes each line
of the container's output there as `TIME STREAM TAG text` (RFC 3339 nanoseconds,
stdout or stderr, `F` for a full line or `P` for a part of a longer one, which the
next lines of the same stream continue up to an `F`).
"""

from __future__ import annotations

import glob
import os

from cntr_tui.attach.container import Container
from cntr_tui.logs.follow import follow
from cntr_tui.logs.records import LogLine
from cntr_tui.logs.stream import Emit, LogStream, NoLogs
from cntr_tui.logs.timestamps import split_stamp

PODS_DIR = "/var/log/pods"
UNPARSED_STREAM = "log"


class CriParser:
    """Lines of a CRI log file -> LogLines, the parts of a long line joined (the
    joined line has its first part's time)."""

    def __init__(self) -> None:
        self.parts: dict[str, tuple[float | None, list[str]]] = {}

    def feed(self, raw: str) -> LogLine | None:
        """The LogLine `raw` completes, or None when it is a part of a longer one."""
        time, rest = split_stamp(raw)
        stream, _, rest = rest.partition(" ")
        tag, _, text = rest.partition(" ")
        if time is None or not stream or not tag:
            return LogLine(raw, UNPARSED_STREAM)
        started, parts = self.parts.pop(stream, (time, []))
        parts.append(text)
        if "P" in tag.split(":"):
            self.parts[stream] = (started, parts)
            return None
        return LogLine("".join(parts), stream, started)


def pod_log_path(container: Container, pods_dir: str = PODS_DIR) -> str:
    """The newest log file of a Kubernetes container under `pods_dir`; NoLogs if none."""
    kubernetes = container.kubernetes
    if kubernetes is None:
        raise NoLogs(f"containerd {container.name} is not a Kubernetes container")
    pattern = os.path.join(
        glob.escape(pods_dir),
        glob.escape(f"{kubernetes.namespace}_{kubernetes.pod}_") + "*",
        glob.escape(kubernetes.container),
        "*.log",
    )
    found = glob.glob(pattern)
    if not found:
        raise NoLogs(
            f"no CRI log of {kubernetes.namespace}/{kubernetes.pod}/{kubernetes.container}"
            f" under {pods_dir} (kubelet's pod logs)"
        )
    return max(found, key=lambda path: (os.stat(path).st_mtime, path))


def cri_logs(container: Container, tail: int, pods_dir: str = PODS_DIR) -> LogStream:
    """The container's CRI log file, followed until its main process ends."""
    path = pod_log_path(container, pods_dir)

    async def produce(emit: Emit) -> None:
        parser = CriParser()
        async for raw in follow(path, tail, container.pid or None):
            if (line := parser.feed(raw)) is not None:
                emit(line)

    return LogStream(path, produce)
