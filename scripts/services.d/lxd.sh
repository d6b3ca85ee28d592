# LXD for the test bed: sourced by services.sh (which defines log, wait_for, $STATE and
# $LOGS), which calls start_lxd. No systemd here, so the daemon is started by hand.
#
# What is recorded in $STATE is not lxd itself but a small supervisor (bash) whose
# SIGTERM (services.sh stop) force-stops every running instance of every project and
# then shuts the daemon down with `lxd shutdown`: a bare SIGTERM to lxd leaves its
# containers running under their `[lxc monitor]` processes and its two tmpfs mounts
# (/var/lib/lxd/shmounts, devlxd) in place, and `lxd shutdown` alone waits 30 s per
# container whose init ignores SIGPWR (the test programs do). After that stop nothing
# of LXD runs and nothing of it is mounted; the next start finds its database as left.
#
# One-time set-up (idempotent): a `dir` storage pool named default and the default
# profile's root disk on it; no network at all (no bridge, no NIC: the machines have
# no network), so containers get only their loopback.

LXD_DIR=${LXD_DIR:-/var/lib/lxd}
LXD_LOG=$LOGS/lxd.log

answers_lxd() { [[ -S $LXD_DIR/unix.socket ]] && lxc query /1.0 >/dev/null 2>&1; }

lxd_ready() { lxd waitready --timeout 30 && answers_lxd; }

lxd_preseed() {
    cat <<'EOF'
config:
  images.auto_update_interval: "0"
storage_pools:
- name: default
  driver: dir
profiles:
- name: default
  description: cntr-tui test bed (dir pool, no network)
  devices:
    root:
      path: /
      pool: default
      type: disk
EOF
}

lxd_initialised() {
    lxc storage show default >/dev/null 2>&1 &&
        [[ $(lxc profile device get default root pool 2>/dev/null) == default ]]
}

# The supervisor's own script: $1 the log file. Runs lxd as its child and turns its
# SIGTERM into a clean stop of every instance and of the daemon.
# shellcheck disable=SC2016  # expanded by the supervisor, not here
LXD_SUPERVISOR='
log=$1
lxd --group lxd --logfile "$log" &
daemon=$!
stop_all() {
    lxc list --all-projects --format csv --columns en status=running 2>/dev/null |
        while IFS=, read -r project name; do
            [[ -n $name ]] && lxc stop --force --project "$project" "$name"
        done
    lxd shutdown --timeout 20 || kill "$daemon"
    wait "$daemon"
    exit 0
}
trap stop_all TERM INT
wait "$daemon"
'

start_lxd() {
    if ! command -v lxd >/dev/null; then
        log "lxd is not installed: no LXD in the test bed"
        return 0
    fi
    if ! answers_lxd; then
        log "starting lxd (LXD_DIR $LXD_DIR)"
        LXD_DIR=$LXD_DIR setsid bash -c "$LXD_SUPERVISOR" lxd-supervisor "$LXD_LOG" \
            >"$LOGS/lxd.out" 2>&1 </dev/null &
        echo "lxd $!" >>"$STATE"
        if ! lxd_ready; then
            log "lxd did not become ready; its log:"
            tail -n 20 "$LXD_LOG" "$LOGS/lxd.out" >&2
            return 1
        fi
    fi
    if ! lxd_initialised; then
        log "lxd init: storage pool default (dir), no network"
        lxd_preseed | lxd init --preseed
    fi
}
