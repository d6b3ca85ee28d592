#!/usr/bin/env bash
# Set up cntr-tui and open it on a slim demo container it starts itself: under docker
# when dockerd answers, else as a plain namespaced process. Quitting removes the demo.
set -euo pipefail

REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
bash "$REPO/scripts/setup.sh"
exec cntr-tui demo "$@"
