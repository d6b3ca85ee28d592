#!/usr/bin/env bash
# Set up cntr-tui on a Debian 12 machine, as root: Debian packages, a virtual
# environment with the package, and `cntr-tui` on PATH. Safe to run again.
set -euo pipefail

REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VENV="$REPO/.venv"
PACKAGES=(
    docker.io containerd podman lxc systemd-container uidmap
    busybox-static gdb gdbserver strace fuse3 libfuse3-dev pkg-config gcc g++ tar tmux
    python3 python3-venv python3-dev golang-go
    lxd lxd-client mmdebstrap
)

log() { printf 'setup: %s\n' "$*" >&2; }
# shellcheck source=scripts/apt_locks.sh
source "$REPO/scripts/apt_locks.sh"

if [[ $EUID -ne 0 ]]; then
    echo "setup: run as root (cntr-tui joins container namespaces and mounts FUSE)" >&2
    exit 1
fi

missing=()
# kubectl: this machine kind's image has one (package kubectl); Debian's is the fallback
command -v kubectl >/dev/null || missing+=(kubernetes-client)
for package in "${PACKAGES[@]}"; do
    dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed" \
        || missing+=("$package")
done
if ((${#missing[@]})); then
    log "installing ${missing[*]}"
    export DEBIAN_FRONTEND=noninteractive
    apt_get update -q >/dev/null
    apt_get install -y -q --no-install-recommends "${missing[@]}" >/dev/null
    # Debian starts these services on install where systemd runs; the scripts start
    # what they need themselves, so a machine without systemd behaves the same.
fi

PYTHON="${PYTHON:-python3}"
if ! "$PYTHON" -c 'import sys; sys.exit(sys.version_info < (3, 11))'; then
    echo "setup: cntr-tui needs Python 3.11 or newer ($PYTHON is older)" >&2
    exit 1
fi
if [[ ! -x "$VENV/bin/python" ]]; then
    log "creating $VENV"
    "$PYTHON" -m venv "$VENV"
fi
stamp="$VENV/.installed-$(sha256sum "$REPO/pyproject.toml" | cut -c1-16)"
if [[ ! -e "$stamp" ]]; then
    log "installing cntr-tui and its Python packages"
    "$VENV/bin/pip" install -q --disable-pip-version-check -U pip
    "$VENV/bin/pip" install -q --disable-pip-version-check -e "$REPO[test]"
    rm -f "$VENV"/.installed-*
    touch "$stamp"
fi
ln -sfn "$VENV/bin/cntr-tui" /usr/local/bin/cntr-tui
ln -sfn "$VENV/bin/kubectl-cntr" /usr/local/bin/kubectl-cntr  # `kubectl cntr`
log "cntr-tui is $(command -v cntr-tui)"
