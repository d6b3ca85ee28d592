#!/usr/bin/env bash
# Set up everything and run the whole test suite against real container runtimes.
# Starts the daemons the tests use and stops, at the end, those it started.
set -euo pipefail

REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$REPO"

bash scripts/setup.sh
CNTR_TUI_SERVICES_STATE=$(mktemp /run/cntr-tui-services.XXXXXX)
export CNTR_TUI_SERVICES_STATE
trap 'bash scripts/services.sh stop' EXIT
bash scripts/services.sh start

echo "== ruff"
.venv/bin/ruff check .
.venv/bin/ruff format --check .

echo "== leftovers of interrupted earlier runs"
.venv/bin/python -m cntr_tui.demo.sweep cntr-test-

echo "== pytest"
.venv/bin/python -m pytest -p no:cacheprovider "$@"
