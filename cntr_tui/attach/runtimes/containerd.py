"""containerd containers: every namespace (`k8s.io`, `moby`, `default`, ...) on every socket.

Talks gRPC to each socket directly: one Namespaces.List per socket, then one
Containers.List and one Tasks.List per namespace, all in flight at once. Containers
carry their labels (CRI's pod/namespace/container names), tasks their PIDs and states.
`ctr` would need one process per container for the labels.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from cntr_tui.attach.container import Container
from cntr_tui.attach.runtimes import protowire
from cntr_tui.attach.runtimes.base import (
    ListContext,
    RuntimeAbsent,
    RuntimeFailed,
    kubernetes_from_labels,
)

RUNTIME = "containerd"
NAMESPACE_HEADER = "containerd-namespace"
LIST_NAMESPACES = "/containerd.services.namespaces.v1.Namespaces/List"
LIST_CONTAINERS = "/containerd.services.containers.v1.Containers/List"
LIST_TASKS = "/containerd.services.tasks.v1.Tasks/List"
MAX_MESSAGE_BYTES = 256 * 1024 * 1024
# containerd.v1.types.Status
TASK_STATUS = {0: "unknown", 1: "created", 2: "running", 3: "stopped", 4: "paused", 5: "pausing"}
LIVE_STATUSES = ("running", "paused", "pausing")


@dataclass(frozen=True)
class ContainerRecord:
    """The part of containerd's Container message cntr-tui uses."""

    id: str
    labels: dict[str, str]
    image: str
    created_at: float | None


@dataclass(frozen=True)
class TaskRecord:
    id: str
    pid: int
    status: str


def _text(value: int | bytes) -> str:
    return value.decode(errors="replace") if isinstance(value, bytes) else str(value)


def _timestamp(data: bytes) -> float:
    seconds = nanos = 0
    for number, value in protowire.fields(data):
        if number == 1 and isinstance(value, int):
            seconds = value
        elif number == 2 and isinstance(value, int):
            nanos = value
    return seconds + nanos / 1e9


def _map_entry(data: bytes) -> tuple[str, str]:
    key = value = ""
    for number, raw in protowire.fields(data):
        if number == 1:
            key = _text(raw)
        elif number == 2:
            value = _text(raw)
    return key, value


def parse_namespaces(reply: bytes) -> list[str]:
    """Names from a ListNamespacesResponse."""
    names = []
    for number, namespace in protowire.fields(reply):
        if number == 1 and isinstance(namespace, bytes):
            names += [_text(v) for n, v in protowire.fields(namespace) if n == 1]
    return names


def parse_containers(reply: bytes) -> list[ContainerRecord]:
    """Records from a ListContainersResponse."""
    records = []
    for number, message in protowire.fields(reply):
        if number != 1 or not isinstance(message, bytes):
            continue
        container_id = image = ""
        labels: dict[str, str] = {}
        created_at: float | None = None
        for field_number, value in protowire.fields(message):
            if field_number == 1:
                container_id = _text(value)
            elif field_number == 2 and isinstance(value, bytes):
                key, label = _map_entry(value)
                labels[key] = label
            elif field_number == 3:
                image = _text(value)
            elif field_number == 8 and isinstance(value, bytes):
                created_at = _timestamp(value)
        records.append(ContainerRecord(container_id, labels, image, created_at))
    return records


def parse_tasks(reply: bytes) -> list[TaskRecord]:
    """Records from a ListTasksResponse (containerd.v1.types.Process messages)."""
    records = []
    for number, message in protowire.fields(reply):
        if number != 1 or not isinstance(message, bytes):
            continue
        container_id = task_id = ""
        pid = status = 0
        for field_number, value in protowire.fields(message):
            if field_number == 1:
                container_id = _text(value)
            elif field_number == 2:
                task_id = _text(value)
            elif field_number == 3 and isinstance(value, int):
                pid = value
            elif field_number == 4 and isinstance(value, int):
                status = value
        records.append(TaskRecord(container_id or task_id, pid, TASK_STATUS.get(status, "unknown")))
    return records


def unique_sockets(paths: tuple[str, ...]) -> list[str]:
    """Existing sockets among `paths`, each once (/var/run is often /run)."""
    seen: set[tuple[int, int]] = set()
    found = []
    for path in paths:
        try:
            info = os.stat(path)
        except OSError:
            continue
        if (info.st_dev, info.st_ino) not in seen:
            seen.add((info.st_dev, info.st_ino))
            found.append(path)
    return found


def containers_of_namespace(
    namespace: str, records: list[ContainerRecord], tasks: list[TaskRecord], include_stopped: bool
) -> list[Container]:
    by_id = {task.id: task for task in tasks}
    containers = []
    for record in records:
        task = by_id.get(record.id)
        status = task.status if task else "created"
        # A created task has its process already: kept (discovery shows only live
        # ones) so that this process is not taken for a plain namespaced one.
        starting = status == "created" and task is not None and task.pid > 0
        if status not in LIVE_STATUSES and not include_stopped and not starting:
            continue
        kubernetes = kubernetes_from_labels(record.labels)
        containers.append(
            Container(
                runtime=RUNTIME,
                id=record.id,
                name=(
                    f"{kubernetes.namespace}/{kubernetes.pod}/{kubernetes.container}"
                    if kubernetes
                    else record.id
                ),
                pid=task.pid if task and (status in LIVE_STATUSES or starting) else 0,
                image=record.image or None,
                status=status,
                started_at=record.created_at,
                kubernetes=kubernetes,
                runtime_namespace=namespace,
            )
        )
    return containers


def _identity(data: bytes) -> bytes:
    return data


class _Socket:
    """One gRPC channel to one containerd; calls return futures of raw replies."""

    def __init__(self, path: str, timeout: float) -> None:
        import grpc

        self.path = path
        self.timeout = timeout
        self.channel = grpc.insecure_channel(
            f"unix://{path}",
            options=[
                ("grpc.max_receive_message_length", MAX_MESSAGE_BYTES),
                ("grpc.enable_retries", 0),
            ],
        )

    def call(self, method: str, namespace: str | None = None) -> Any:
        stub: Callable[..., Any] = self.channel.unary_unary(
            method, request_serializer=_identity, response_deserializer=_identity
        )
        metadata = [(NAMESPACE_HEADER, namespace)] if namespace else None
        return stub.future(b"", metadata=metadata, timeout=self.timeout)

    def close(self) -> None:
        self.channel.close()


def _grpc_failure(path: str, error: Exception) -> Exception:
    import grpc

    if isinstance(error, grpc.RpcError) and error.code() == grpc.StatusCode.UNAVAILABLE:
        return RuntimeAbsent(f"no containerd answers on {path}")
    details = error.details() if isinstance(error, grpc.RpcError) else str(error)
    return RuntimeFailed(f"{path}: {details}")


def list_socket(path: str, include_stopped: bool, timeout: float) -> list[Container]:
    """Containers of every namespace of the containerd listening on `path`."""
    import grpc

    socket = _Socket(path, timeout)
    try:
        namespaces = parse_namespaces(socket.call(LIST_NAMESPACES).result())
        pending = [
            (namespace, socket.call(LIST_CONTAINERS, namespace), socket.call(LIST_TASKS, namespace))
            for namespace in namespaces
        ]
        containers = []
        for namespace, containers_reply, tasks_reply in pending:
            records = parse_containers(containers_reply.result())
            tasks = parse_tasks(tasks_reply.result())
            containers += containers_of_namespace(namespace, records, tasks, include_stopped)
        return containers
    except grpc.RpcError as error:
        raise _grpc_failure(path, error) from error
    except protowire.WireError as error:
        raise RuntimeFailed(f"{path}: unreadable reply ({error})") from error
    finally:
        socket.close()


def list_containers(context: ListContext) -> list[Container]:
    sockets = unique_sockets(context.config.containerd_sockets)
    if not sockets:
        raise RuntimeAbsent("no containerd socket")
    try:
        import grpc  # noqa: F401
    except ImportError:
        raise RuntimeFailed("the grpcio package is not installed") from None
    containers: list[Container] = []
    answered = False
    for path in sockets:
        try:
            containers += list_socket(path, context.include_stopped, context.config.timeout)
            answered = True
        except RuntimeAbsent:
            continue
        except RuntimeFailed as error:
            context.warn(RUNTIME, str(error))
            answered = True
    if not answered:
        raise RuntimeAbsent("no containerd answers")
    return containers
