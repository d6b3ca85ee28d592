"""containerd's API, the part cntr-tui reads: three List calls and the fields it uses.

The `.proto` files here keep containerd's own package names, message names, field
numbers and types (containerd's `api/services/namespaces/v1/namespace.proto`,
`api/services/containers/v1/containers.proto`, `api/services/tasks/v1/tasks.proto` and
`api/types/task/task.proto`); fields containerd sends that are not declared are
skipped by protobuf. The `*_pb2.py` modules are generated from them by
`scripts/protos.sh` and committed; a test regenerates them and fails when they differ.
They hold the services too (no gRPC stubs are generated: `containerd.Client` makes each
call from its service's descriptor). Importing them imports google.protobuf: only
`containerd.Client` does, when containerd is asked.
"""
