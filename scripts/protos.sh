#!/usr/bin/env bash
# Generate the Python modules of containerd's messages from the .proto files in
# cntr_tui/attach/runtimes/protos (grpcio-tools, the version pinned in pyproject's test
# extra). The generated files are committed; run this after editing a .proto.
#   bash scripts/protos.sh [OUT]   # OUT: another tree to write into (default: this one)
set -euo pipefail

REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
PYTHON="${PYTHON:-$REPO/.venv/bin/python}"
OUT="${1:-$REPO}"
PROTOS=cntr_tui/attach/runtimes/protos

cd "$REPO"
mkdir -p "$OUT/$PROTOS"
# grpc_tools.protoc run as a module adds the well-known types (timestamp.proto) to -I.
"$PYTHON" -m grpc_tools.protoc -I . \
    --python_out="$OUT" \
    "$PROTOS"/*.proto
