#!/usr/bin/env bash
# Generate the Python modules of containerd's and the CRI's messages from the .proto files in
# cntr_tui/attach/runtimes/protos (grpcio-tools, the version pinned in pyproject's test
# extra). Run this after editing a .proto; tests/unit/test_containerd_api.py fails until then.
#   bash scripts/protos.sh [OUT]   # OUT: another tree to write into (default: this one)
#
# The modules are committed rather than made by a hatchling build hook: the editable
# install imports the source tree, so a hook would write them there and refresh them
# only when pip reinstalls (setup.sh reinstalls when pyproject.toml changes, not a
# .proto), and a checkout used through PYTHONPATH (a worktree) would have none.
set -euo pipefail

REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
PYTHON="${PYTHON:-$REPO/.venv/bin/python}"
OUT="${1:-$REPO}"
PROTOS=cntr_tui/attach/runtimes/protos

cd "$REPO"
mkdir -p "$OUT/$PROTOS"
# grpc_tools.protoc run as a module adds the well-known types (timestamp.proto) to -I.
"$PYTHON" -m grpc_tools.protoc -I . --python_out="$OUT" "$PROTOS"/*.proto
