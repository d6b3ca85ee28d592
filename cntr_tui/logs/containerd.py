"""A plain containerd task's log file: the `file://` URI its stdout was given
(`ctr run --log-uri file:///PATH`), where containerd's shim writes the task's stdout
and stderr, both into the one file.

The URI is in the task's Process message (its `stdout` field), from Tasks.Get. The
messages are declared here, in a descriptor pool of this module's own, with the few
fields read: attach/runtimes/protos has no Get call and no stdio fields.
"""

from __future__ import annotations

import os
from functools import cache
from typing import Any

from cntr_tui.attach.container import Container
from cntr_tui.attach.runtimes.base import DEFAULT_CONTAINERD_SOCKETS
from cntr_tui.logs.follow import follow
from cntr_tui.logs.records import LogLine
from cntr_tui.logs.stream import Emit, LogStream, NoLogs

GET_METHOD = "/containerd.services.tasks.v1.Tasks/Get"
NAMESPACE_HEADER = "containerd-namespace"
GET_TIMEOUT = 1.0
STREAM = "stdout+stderr"  # the shim writes both into the file: which wrote a line is lost


@cache
def _messages() -> tuple[Any, Any]:
    """(GetRequest, GetResponse) classes: containerd's, with only the fields used."""
    from google.protobuf import descriptor_pb2, descriptor_pool
    from google.protobuf.message_factory import GetMessageClass

    string, boolean = (
        descriptor_pb2.FieldDescriptorProto.TYPE_STRING,
        descriptor_pb2.FieldDescriptorProto.TYPE_BOOL,
    )
    optional = descriptor_pb2.FieldDescriptorProto.LABEL_OPTIONAL
    file = descriptor_pb2.FileDescriptorProto(
        name="cntr_tui/logs/containerd_tasks.proto", package="cntr_tui.logs", syntax="proto3"
    )
    request = file.message_type.add(name="GetRequest")
    request.field.add(name="container_id", number=1, type=string, label=optional)
    process = file.message_type.add(name="Process")
    for name, number, kind in (
        ("stdout", 6, string),
        ("stderr", 7, string),
        ("terminal", 8, boolean),
    ):
        process.field.add(name=name, number=number, type=kind, label=optional)
    response = file.message_type.add(name="GetResponse")
    response.field.add(
        name="process",
        number=1,
        type=descriptor_pb2.FieldDescriptorProto.TYPE_MESSAGE,
        type_name=".cntr_tui.logs.Process",
        label=optional,
    )
    pool = descriptor_pool.DescriptorPool()
    pool.Add(file)
    return (
        GetMessageClass(pool.FindMessageTypeByName("cntr_tui.logs.GetRequest")),
        GetMessageClass(pool.FindMessageTypeByName("cntr_tui.logs.GetResponse")),
    )


def task_stdout(container: Container, sockets: tuple[str, ...]) -> str | None:
    """The stdout URI containerd keeps for the task (None: no containerd knows it)."""
    import grpc

    request_class, response_class = _messages()
    for path in sockets:
        if not os.path.exists(path):
            continue
        with grpc.insecure_channel(f"unix://{path}") as channel:
            get = channel.unary_unary(
                GET_METHOD,
                request_serializer=request_class.SerializeToString,
                response_deserializer=response_class.FromString,
            )
            try:
                reply = get(
                    request_class(container_id=container.id),
                    metadata=[(NAMESPACE_HEADER, container.runtime_namespace or "default")],
                    timeout=GET_TIMEOUT,
                )
            except grpc.RpcError:
                continue  # another containerd, or none on this socket
            return str(reply.process.stdout)
    return None


def containerd_logs(
    container: Container, tail: int, sockets: tuple[str, ...] = DEFAULT_CONTAINERD_SOCKETS
) -> LogStream:
    """The task's `file://` log; NoLogs when its output goes anywhere else."""
    uri = task_stdout(container, sockets)
    if not uri or not uri.startswith("file://"):
        where = f"its stdout is {uri!r}" if uri else "its output is not kept"
        raise NoLogs(f"containerd keeps no log for task {container.name} ({where})")
    path = uri.removeprefix("file://")

    async def produce(emit: Emit) -> None:
        async for text in follow(path, tail, container.pid or None):
            emit(LogLine(text, STREAM))

    return LogStream(f"containerd task {container.name}: {path}", produce)
