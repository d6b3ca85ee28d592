"""Docker containers, through the docker SDK on the daemon's socket.

One list call, then one inspect per running container (the list has no PIDs), run
concurrently on the SDK's connection pool: this is what `containers.list(sparse=False)`
does, minus the waiting in line.
"""

from __future__ import annotations

import os
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from cntr_tui.attach.container import Container
from cntr_tui.attach.runtimes.base import (
    ListContext,
    RuntimeAbsent,
    RuntimeFailed,
    kubernetes_from_labels,
)

RUNTIME = "docker"
INSPECT_THREADS = 8
LIVE_STATES = ("running", "paused", "restarting")


def _absent_cause(error: BaseException) -> bool:
    """True when the chain of `error` says nobody listens (no socket, refused)."""
    seen: set[int] = set()
    current: BaseException | None = error
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        if isinstance(current, (FileNotFoundError, ConnectionRefusedError)):
            return True
        for arg in current.args:
            if isinstance(arg, BaseException) and _absent_cause(arg):
                return True
        current = current.__cause__ or current.__context__
    text = str(error)
    return "No such file or directory" in text or "Connection refused" in text


def _client(base_url: str, timeout: float) -> Any:
    import docker
    import docker.errors

    socket_path = base_url.removeprefix("unix://")
    if base_url.startswith("unix://") and not os.path.exists(socket_path):
        raise RuntimeAbsent(f"no docker socket at {socket_path}")
    try:
        return docker.APIClient(base_url=base_url, timeout=timeout, max_pool_size=INSPECT_THREADS)
    except docker.errors.DockerException as error:
        if _absent_cause(error):
            raise RuntimeAbsent(str(error)) from error
        raise RuntimeFailed(_one_line(error)) from error


def _one_line(error: BaseException) -> str:
    text = " ".join(str(error).split())
    return text[:200]


def _container(summary: dict[str, Any], inspect: dict[str, Any] | None) -> Container:
    state = (inspect or {}).get("State") or {}
    status = summary.get("State") or "unknown"
    if state.get("Paused"):
        status = "paused"
    names = summary.get("Names") or []
    name = names[0].lstrip("/") if names else summary["Id"][:12]
    labels = summary.get("Labels") or {}
    return Container(
        runtime=RUNTIME,
        id=summary["Id"],
        name=name,
        pid=int(state.get("Pid") or 0),
        image=summary.get("Image") or None,
        status=status,
        started_at=float(summary["Created"]) if summary.get("Created") else None,
        command=summary.get("Command") or "",
        kubernetes=kubernetes_from_labels(labels),
    )


def list_containers(context: ListContext) -> list[Container]:
    import docker.errors
    import requests.exceptions

    client = _client(context.config.resolved_docker_host(), context.config.timeout)
    try:
        summaries = client.containers(all=context.include_stopped)
        live = [s for s in summaries if s.get("State") in LIVE_STATES]

        def inspect(container_id: str) -> dict[str, Any] | None:
            try:
                return client.inspect_container(container_id)
            except docker.errors.NotFound:
                return None  # removed while we listed

        with ThreadPoolExecutor(INSPECT_THREADS, thread_name_prefix="docker-inspect") as pool:
            ids = [summary["Id"] for summary in live]
            details = dict(zip(ids, pool.map(inspect, ids), strict=True))
    except (docker.errors.DockerException, requests.exceptions.RequestException) as error:
        if _absent_cause(error):
            raise RuntimeAbsent(str(error)) from error
        raise RuntimeFailed(_one_line(error)) from error
    finally:
        client.close()
    containers = []
    for summary in summaries:
        if summary["Id"] in details and details[summary["Id"]] is None:
            continue
        containers.append(_container(summary, details.get(summary["Id"])))
    return containers
