"""Fakes of containerd: a gRPC server on a unix socket answering every call with one function."""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import grpc

# (request bytes, context) -> reply bytes: no (de)serializers, the wire bytes themselves
Answer = Callable[[bytes, grpc.ServicerContext], bytes]


class _EveryMethod(grpc.GenericRpcHandler):
    def __init__(self, answer: Answer) -> None:
        self.answer = answer

    def service(self, handler_call_details: grpc.HandlerCallDetails) -> grpc.RpcMethodHandler:
        return grpc.unary_unary_rpc_method_handler(self.answer)


class FakeContainerd:
    """`with FakeContainerd(path, answer) as fake:` serves on unix `fake.path`."""

    def __init__(self, path: Path, answer: Answer) -> None:
        self.path = str(path)
        self.server = grpc.server(ThreadPoolExecutor(2))
        self.server.add_generic_rpc_handlers((_EveryMethod(answer),))
        self.server.add_insecure_port(f"unix://{path}")

    def __enter__(self) -> FakeContainerd:
        self.server.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.server.stop(0).wait()
