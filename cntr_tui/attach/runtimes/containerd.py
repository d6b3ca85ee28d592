"""containerd containers: every namespace (`k8s.io`, `moby`, `default`, ...) on every socket.

Talks gRPC to each socket directly: one Namespaces.List per socket, then one
Containers.List and one Tasks.List per namespace, all in flight at once. Containers
carry their labels (CRI's pod/namespace/container names, pod UID), tasks their PIDs and
states. `ctr` would need one process per container for the labels.

In the CRI's namespace (`k8s.io`) the CRI's own ListContainers goes along on the same
channel: the restart count (an annotation) and the state of a container without a task
(exited, as the kubelet sees it) are only there. A pod's sandbox (its pause container,
CRI kind `sandbox`) is no debug target: left out of listings, kept for a look-up
(include_stopped), which refuses it by name.

The messages are containerd's own, declared in `protos/*.proto` (the fields used) and
compiled by grpcio-tools. grpc and google.protobuf are imported only when containerd
is asked, not when this module is: every `cntr-tui` command imports the runtimes.
"""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from cntr_tui.attach.container import Container
from cntr_tui.attach.runtimes.base import (
    ListContext,
    RuntimeAbsent,
    RuntimeFailed,
    kubernetes_from_labels,
)

if TYPE_CHECKING:
    import grpc
    from google.protobuf.descriptor import ServiceDescriptor

    from cntr_tui.attach.runtimes.cri import CriContainer
    from cntr_tui.attach.runtimes.protos import containers_pb2, namespace_pb2, tasks_pb2

RUNTIME = "containerd"
CRI_NAMESPACE = "k8s.io"
CRI_KIND_LABEL = "io.cri-containerd.kind"  # "sandbox" or "container", set by containerd's CRI
NAMESPACE_HEADER = "containerd-namespace"
MAX_MESSAGE_BYTES = 256 * 1024 * 1024
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


def parse_namespaces(reply: namespace_pb2.ListNamespacesResponse) -> list[str]:
    return [namespace.name for namespace in reply.namespaces]


def parse_containers(reply: containers_pb2.ListContainersResponse) -> list[ContainerRecord]:
    return [
        ContainerRecord(
            container.id,
            dict(container.labels),
            container.image,
            (
                container.created_at.seconds + container.created_at.nanos / 1e9
                if container.HasField("created_at")
                else None
            ),
        )
        for container in reply.containers
    ]


def parse_tasks(reply: tasks_pb2.ListTasksResponse) -> list[TaskRecord]:
    """Records of the tasks' init processes (containerd.v1.types.Process messages)."""
    from cntr_tui.attach.runtimes.protos.task_pb2 import Status

    # A status a newer containerd added is an open enum's unnamed number here.
    known = set(Status.values())
    return [
        TaskRecord(
            task.container_id or task.id,
            task.pid,
            Status.Name(task.status).lower() if task.status in known else "unknown",
        )
        for task in reply.tasks
    ]


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


def is_sandbox(record: ContainerRecord) -> bool:
    return record.labels.get(CRI_KIND_LABEL) == "sandbox"


def containers_of_namespace(
    namespace: str,
    records: list[ContainerRecord],
    tasks: list[TaskRecord],
    include_stopped: bool,
    cri: dict[str, CriContainer] | None = None,
) -> list[Container]:
    """`cri`: the CRI's records by container id, when the namespace is the CRI's."""
    by_id = {task.id: task for task in tasks}
    cri = cri or {}
    containers = []
    for record in records:
        if is_sandbox(record) and not include_stopped:
            continue
        task = by_id.get(record.id)
        known = cri.get(record.id)
        # no task: the CRI knows whether it is yet to start or has exited
        status = task.status if task else (known.state if known else "created")
        # A created task has its process already: kept (discovery shows only live
        # ones) so that this process is not taken for a plain namespaced one.
        starting = status == "created" and task is not None and task.pid > 0
        if status not in LIVE_STATUSES and not include_stopped and not starting:
            continue
        kubernetes = kubernetes_from_labels(record.labels)
        if kubernetes is not None and known is not None:
            kubernetes = dataclasses.replace(kubernetes, restart_count=known.restart_count)
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


class Client:
    """The three List calls to the containerd on `path`; each returns a grpc future.

    The calls' paths and messages are those the .proto files declare.
    """

    def __init__(self, path: str, timeout: float) -> None:
        import grpc

        from cntr_tui.attach.runtimes.protos import containers_pb2, namespace_pb2, tasks_pb2

        self.timeout = timeout
        self.channel = grpc.insecure_channel(
            f"unix://{path}",
            options=[
                ("grpc.max_receive_message_length", MAX_MESSAGE_BYTES),
                ("grpc.enable_retries", 0),
            ],
        )
        self._namespaces = self._list_call(namespace_pb2.DESCRIPTOR.services_by_name["Namespaces"])
        self._containers = self._list_call(containers_pb2.DESCRIPTOR.services_by_name["Containers"])
        self._tasks = self._list_call(tasks_pb2.DESCRIPTOR.services_by_name["Tasks"])

    def _list_call(self, service: ServiceDescriptor) -> Callable[[str | None], grpc.Future]:
        from google.protobuf.message_factory import GetMessageClass

        method = service.methods_by_name["List"]
        request = GetMessageClass(method.input_type)
        call = self.channel.unary_unary(
            f"/{service.full_name}/{method.name}",
            request_serializer=request.SerializeToString,
            response_deserializer=GetMessageClass(method.output_type).FromString,
        )

        def start(namespace: str | None) -> grpc.Future:
            metadata = [(NAMESPACE_HEADER, namespace)] if namespace else None
            return call.future(request(), metadata=metadata, timeout=self.timeout)

        return start

    def namespaces(self) -> grpc.Future:
        """Of a ListNamespacesResponse."""
        return self._namespaces(None)

    def containers(self, namespace: str) -> grpc.Future:
        """Of a ListContainersResponse."""
        return self._containers(namespace)

    def tasks(self, namespace: str) -> grpc.Future:
        """Of a ListTasksResponse."""
        return self._tasks(namespace)

    def __enter__(self) -> Client:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.channel.close()


def _grpc_failure(path: str, error: Exception) -> Exception:
    import grpc

    if isinstance(error, grpc.RpcError) and error.code() == grpc.StatusCode.UNAVAILABLE:
        return RuntimeAbsent(f"no containerd answers on {path}")
    details = error.details() if isinstance(error, grpc.RpcError) else str(error)
    return RuntimeFailed(f"{path}: {details}")


def cri_records(
    path: str, reply: grpc.Future, warn: Callable[[str], None]
) -> dict[str, CriContainer]:
    """The CRI's containers by id; none (and a warning unless the CRI is not served,
    as in docker's own containerd) when it fails: the listing stands without them."""
    import grpc

    from cntr_tui.attach.runtimes import cri

    try:
        return {record.id: record for record in cri.parse_containers(reply.result())}
    except grpc.RpcError as error:
        if error.code() not in (grpc.StatusCode.UNIMPLEMENTED, grpc.StatusCode.UNAVAILABLE):
            warn(f"{path}: the CRI's ListContainers failed ({error.details()}): no restart counts")
        return {}


def list_socket(
    path: str,
    include_stopped: bool,
    timeout: float,
    warn: Callable[[str], None] = lambda message: None,
) -> list[Container]:
    """Containers of every namespace of the containerd listening on `path`."""
    import grpc

    from cntr_tui.attach.runtimes import cri

    with Client(path, timeout) as client:
        try:
            namespaces = parse_namespaces(client.namespaces().result())
            pending = [
                (namespace, client.containers(namespace), client.tasks(namespace))
                for namespace in namespaces
            ]
            cri_reply = (
                cri.Client(path, timeout, client.channel).list_containers()
                if CRI_NAMESPACE in namespaces
                else None
            )
            containers = []
            for namespace, containers_reply, tasks_reply in pending:
                records = parse_containers(containers_reply.result())
                tasks = parse_tasks(tasks_reply.result())
                known = (
                    cri_records(path, cri_reply, warn)
                    if namespace == CRI_NAMESPACE and cri_reply is not None
                    else None
                )
                containers += containers_of_namespace(
                    namespace, records, tasks, include_stopped, known
                )
            return containers
        except grpc.RpcError as error:
            raise _grpc_failure(path, error) from error


def list_containers(context: ListContext) -> list[Container]:
    sockets = unique_sockets(context.config.resolved_containerd_sockets())
    if not sockets:
        raise RuntimeAbsent("no containerd socket")
    try:
        import google.protobuf  # noqa: F401
        import grpc  # noqa: F401
    except ImportError as error:
        raise RuntimeFailed(f"the {error.name} package is not installed") from None
    containers: list[Container] = []
    answered = False
    for path in sockets:
        try:
            containers += list_socket(
                path,
                context.include_stopped,
                context.config.timeout,
                lambda message: context.warn(RUNTIME, message),
            )
            answered = True
        except RuntimeAbsent:
            continue
        except RuntimeFailed as error:
            context.warn(RUNTIME, str(error))
            answered = True
    if not answered:
        raise RuntimeAbsent("no containerd answers")
    return containers
