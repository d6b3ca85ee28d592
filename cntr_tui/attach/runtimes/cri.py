"""The Kubernetes CRI (runtime.v1.RuntimeService) on a runtime's socket: what the kubelet
knows of each container that containerd's own records do not carry.

containerd keeps the CRI's labels on its containers (pod, namespace, container name,
pod UID), but the restart count is an annotation and the attempt a CRI metadata field:
both only the CRI's ListContainers gives. Its states (created, running, exited) are
the kubelet's view. `Client` calls any RuntimeService method by name (the test bed
creates pods with it, as the kubelet does); `list_containers` and `list_sandboxes` are
what discovery asks.

The messages are the CRI's own, declared in `protos/cri_api.proto` (the fields used,
wire compatible with k8s.io/cri-api) and compiled by grpcio-tools; grpc is imported
when the CRI is asked, not when this module is.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import grpc

    from cntr_tui.attach.runtimes.protos import cri_api_pb2

SERVICE = "runtime.v1.RuntimeService"
MAX_MESSAGE_BYTES = 256 * 1024 * 1024
RESTART_COUNT_ANNOTATION = "io.kubernetes.container.restartCount"
STATES = {0: "created", 1: "running", 2: "exited", 3: "unknown"}


@dataclass(frozen=True)
class CriContainer:
    """One container as the CRI lists it; `state` one of STATES' names."""

    id: str
    sandbox_id: str
    name: str
    attempt: int
    state: str
    created_at: float
    labels: Mapping[str, str]
    annotations: Mapping[str, str]

    @property
    def restart_count(self) -> int:
        """The kubelet's count (its annotation), else the attempt it created this one as."""
        text = self.annotations.get(RESTART_COUNT_ANNOTATION, "")
        return int(text) if text.isdigit() else self.attempt


@dataclass(frozen=True)
class CriSandbox:
    """One pod sandbox as the CRI lists it; `ready` its state is SANDBOX_READY."""

    id: str
    namespace: str
    name: str
    uid: str
    attempt: int
    ready: bool
    created_at: float
    labels: Mapping[str, str]
    annotations: Mapping[str, str]


def parse_containers(reply: cri_api_pb2.ListContainersResponse) -> list[CriContainer]:
    return [
        CriContainer(
            id=item.id,
            sandbox_id=item.pod_sandbox_id,
            name=item.metadata.name,
            attempt=item.metadata.attempt,
            state=STATES.get(item.state, "unknown"),
            created_at=item.created_at / 1e9,
            labels=dict(item.labels),
            annotations=dict(item.annotations),
        )
        for item in reply.containers
    ]


def parse_sandboxes(reply: cri_api_pb2.ListPodSandboxResponse) -> list[CriSandbox]:
    return [
        CriSandbox(
            id=item.id,
            namespace=item.metadata.namespace,
            name=item.metadata.name,
            uid=item.metadata.uid,
            attempt=item.metadata.attempt,
            ready=item.state == 0,
            created_at=item.created_at / 1e9,
            labels=dict(item.labels),
            annotations=dict(item.annotations),
        )
        for item in reply.items
    ]


class Client:
    """RuntimeService calls to the runtime on unix socket `path`, each by its method
    name with its request message: `client.call("RunPodSandbox", request)`, or
    `client.future(...)` for one in flight."""

    def __init__(self, path: str, timeout: float, channel: grpc.Channel | None = None) -> None:
        """`channel`: one already open to `path` (containerd serves its own API and the
        CRI on one socket), else a new one, closed on exit."""
        import grpc

        from cntr_tui.attach.runtimes.protos import cri_api_pb2

        self.timeout = timeout
        self.messages = cri_api_pb2
        self.service = cri_api_pb2.DESCRIPTOR.services_by_name["RuntimeService"]
        self.owned = channel is None
        self.channel = channel or grpc.insecure_channel(
            f"unix://{path}",
            options=[
                ("grpc.max_receive_message_length", MAX_MESSAGE_BYTES),
                ("grpc.enable_retries", 0),
            ],
        )
        self._calls: dict[str, grpc.UnaryUnaryMultiCallable] = {}

    def _callable(self, method: str) -> grpc.UnaryUnaryMultiCallable:
        if method not in self._calls:
            from google.protobuf.message_factory import GetMessageClass

            described = self.service.methods_by_name[method]
            self._calls[method] = self.channel.unary_unary(
                f"/{SERVICE}/{method}",
                request_serializer=GetMessageClass(described.input_type).SerializeToString,
                response_deserializer=GetMessageClass(described.output_type).FromString,
            )
        return self._calls[method]

    def future(self, method: str, request: Any) -> grpc.Future:
        return self._callable(method).future(request, timeout=self.timeout)

    def call(self, method: str, request: Any) -> Any:
        return self._callable(method)(request, timeout=self.timeout)

    def list_containers(self) -> grpc.Future:
        """Of a ListContainersResponse: every container, of every state."""
        return self.future("ListContainers", self.messages.ListContainersRequest())

    def list_sandboxes(self) -> grpc.Future:
        """Of a ListPodSandboxResponse: every sandbox, ready or not."""
        return self.future("ListPodSandbox", self.messages.ListPodSandboxRequest())

    def __enter__(self) -> Client:
        return self

    def __exit__(self, *exc_info: object) -> None:
        if self.owned:
            self.channel.close()
