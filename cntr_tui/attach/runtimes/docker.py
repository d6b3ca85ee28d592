"""Docker containers, from the Engine API on the daemon's socket (see `docker_api`).

`list_containers` makes one list call. That list has no PIDs, and an inspect per
container costs about 3 ms each: discovery takes the PIDs from containerd's `moby`
namespace instead and calls `inspect_pids` only for containers not found there.
"""

from __future__ import annotations

import os
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from cntr_tui.attach.container import Container
from cntr_tui.attach.runtimes import docker_api
from cntr_tui.attach.runtimes.base import (
    DiscoveryConfig,
    ListContext,
    RuntimeAbsent,
    kubernetes_from_labels,
)

RUNTIME = "docker"
INSPECT_THREADS = 8


def _base_url(config: DiscoveryConfig) -> str:
    base_url = config.resolved_docker_host()
    socket_path = base_url.removeprefix("unix://")
    if base_url.startswith("unix://") and not os.path.exists(socket_path):
        raise RuntimeAbsent(f"no docker socket at {socket_path}")
    return base_url


def _container(summary: dict[str, Any]) -> Container:
    names = summary.get("Names") or []
    return Container(
        runtime=RUNTIME,
        id=summary["Id"],
        name=names[0].lstrip("/") if names else summary["Id"][:12],
        pid=0,
        image=summary.get("Image") or None,
        status=summary.get("State") or "unknown",
        started_at=float(summary["Created"]) if summary.get("Created") else None,
        command=summary.get("Command") or "",
        kubernetes=kubernetes_from_labels(summary.get("Labels")),
    )


def list_containers(context: ListContext) -> list[Container]:
    """Docker's containers from one list call, all with `pid` 0.

    The list has no PIDs. Discovery takes them from containerd's `moby` namespace
    (docker's containers under the same ids), and asks `inspect_pids` for the rest.
    """
    config = context.config
    summaries = docker_api.containers(
        _base_url(config), config.timeout, all_=context.include_stopped
    )
    return [_container(summary) for summary in summaries]


def inspect_pids(config: DiscoveryConfig, ids: list[str]) -> dict[str, int]:
    """Host PID of each running container in `ids`, by concurrent inspect calls.

    Containers removed or stopped meanwhile are left out.
    """
    if not ids:
        return {}
    base_url = _base_url(config)

    def inspect(container_id: str) -> int:
        try:
            reply = docker_api.inspect(base_url, container_id, config.timeout)
        except docker_api.NotFound:
            return 0
        return int((reply.get("State") or {}).get("Pid") or 0)

    with ThreadPoolExecutor(INSPECT_THREADS, thread_name_prefix="docker-inspect") as pool:
        pids = dict(zip(ids, pool.map(inspect, ids), strict=True))
    return {container_id: pid for container_id, pid in pids.items() if pid > 0}
