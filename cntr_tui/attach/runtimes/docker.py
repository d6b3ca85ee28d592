"""Docker containers, through the docker SDK (its low-level APIClient) on the daemon's socket.

`list_containers` makes one list call. That list has no PIDs, and an inspect per
container (what the SDK's `containers.list(sparse=False)` does, one after the other)
costs about 3 ms each: discovery takes the PIDs from containerd's `moby` namespace
instead and calls `inspect_pids` only for containers not found there.
"""

from __future__ import annotations

import os
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from cntr_tui.attach.container import Container
from cntr_tui.attach.runtimes.base import (
    DiscoveryConfig,
    ListContext,
    RuntimeAbsent,
    RuntimeFailed,
    kubernetes_from_labels,
)

RUNTIME = "docker"
INSPECT_THREADS = 8


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


def _failure(error: Exception) -> Exception:
    return RuntimeAbsent(str(error)) if _absent_cause(error) else RuntimeFailed(_one_line(error))


def list_containers(context: ListContext) -> list[Container]:
    """Docker's containers from one list call, all with `pid` 0.

    The list has no PIDs. Discovery takes them from containerd's `moby` namespace
    (docker's containers under the same ids), and asks `inspect_pids` for the rest.
    """
    import docker.errors
    import requests.exceptions

    client = _client(context.config.resolved_docker_host(), context.config.timeout)
    try:
        summaries = client.containers(all=context.include_stopped)
    except (docker.errors.DockerException, requests.exceptions.RequestException) as error:
        raise _failure(error) from error
    finally:
        client.close()
    return [_container(summary) for summary in summaries]


def inspect_pids(config: DiscoveryConfig, ids: list[str]) -> dict[str, int]:
    """Host PID of each running container in `ids`, by concurrent inspect calls.

    Containers removed or stopped meanwhile are left out.
    """
    import docker.errors
    import requests.exceptions

    if not ids:
        return {}
    client = _client(config.resolved_docker_host(), config.timeout)

    def inspect(container_id: str) -> int:
        try:
            return int(client.inspect_container(container_id)["State"].get("Pid") or 0)
        except docker.errors.NotFound:
            return 0

    try:
        with ThreadPoolExecutor(INSPECT_THREADS, thread_name_prefix="docker-inspect") as pool:
            pids = dict(zip(ids, pool.map(inspect, ids), strict=True))
    except (docker.errors.DockerException, requests.exceptions.RequestException) as error:
        raise _failure(error) from error
    finally:
        client.close()
    return {container_id: pid for container_id, pid in pids.items() if pid > 0}
