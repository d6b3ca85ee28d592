#!/usr/bin/env bash
# Start (or stop) the container daemons the test bed uses: a standalone containerd on
# the default socket (the one Kubernetes nodes use) and dockerd. `stop` stops only
# what `start` started, recorded in $STATE.
set -euo pipefail

# One record per caller (test.sh and bench.sh pass their own): a run's `stop` ends
# only the daemons its own `start` started, never those another run started.
STATE=${CNTR_TUI_SERVICES_STATE:-/run/cntr-tui-services}
SCRIPTS="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
LOGS=/var/log/cntr-tui
CONTAINERD_SOCKET=/run/containerd/containerd.sock

log() { printf 'services: %s\n' "$*" >&2; }

answers_containerd() { ctr --address "$CONTAINERD_SOCKET" version >/dev/null 2>&1; }
answers_docker() { docker version >/dev/null 2>&1; }

wait_for() {  # wait_for NAME CHECK LOGFILE: poll a readiness check with a deadline
    local name=$1 check=$2 logfile=$3
    for _ in $(seq 1 300); do
        if $check; then return 0; fi
        sleep 0.1
    done
    log "$name did not become ready; its log:"
    tail -n 20 "$logfile" >&2
    return 1
}

start() {
    mkdir -p "$LOGS" "$(dirname "$STATE")"
    touch "$STATE"
    if ! answers_containerd; then
        log "starting containerd on $CONTAINERD_SOCKET"
        # scripts/containerd.toml, when there, is the test bed's containerd settings
        config=()
        [[ -f $SCRIPTS/containerd.toml ]] && config=(--config "$SCRIPTS/containerd.toml")
        setsid containerd "${config[@]}" --address "$CONTAINERD_SOCKET" \
            >"$LOGS/containerd.log" 2>&1 </dev/null &
        echo "containerd $!" >>"$STATE"
        wait_for containerd answers_containerd "$LOGS/containerd.log"
    fi
    if ! answers_docker; then
        log "starting dockerd"
        setsid dockerd --iptables=false --bridge=none --storage-driver=vfs \
            --containerd="$CONTAINERD_SOCKET" >"$LOGS/dockerd.log" 2>&1 </dev/null &
        echo "dockerd $!" >>"$STATE"
        wait_for dockerd answers_docker "$LOGS/dockerd.log"
    fi
    # More daemons, one file each: services.d/NAME.sh defines start_NAME, which starts
    # its daemon unless it answers already and records "NAME PID" in $STATE.
    for extra in "$SCRIPTS"/services.d/*.sh; do
        [[ -e $extra ]] || continue
        # shellcheck source=/dev/null
        source "$extra"
        # one that fails is said, and only its runtime's tests then fail
        "start_$(basename "$extra" .sh)" || log "$(basename "$extra" .sh) did not start"
    done
}

stop() {
    [[ -f $STATE ]] || return 0
    # Stop in reverse order of start: dockerd before the containerd it uses.
    tac "$STATE" | while read -r name pid; do
        if kill -0 "$pid" 2>/dev/null; then
            log "stopping $name ($pid)"
            kill "$pid"
            for _ in $(seq 1 300); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
            kill -9 "$pid" 2>/dev/null || true
        fi
    done
    rm -f "$STATE"
}

case "${1:-}" in
    start) start ;;
    stop) stop ;;
    *) echo "usage: $0 start|stop" >&2; exit 2 ;;
esac
