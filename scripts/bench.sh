#!/usr/bin/env bash
# Set up, start the daemons the benchmarks use, run every benchmark, write
# bench/RESULTS.md and bench/ratios.png; stops at the end what it started.
set -euo pipefail

REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$REPO"
bash scripts/setup.sh
.venv/bin/pip install -q --disable-pip-version-check -e ".[bench]"
CNTR_TUI_SERVICES_STATE=$(mktemp /run/cntr-tui-services.XXXXXX)
export CNTR_TUI_SERVICES_STATE
trap 'bash scripts/services.sh stop' EXIT
bash scripts/services.sh start
.venv/bin/python bench/run_all.py "$@"
