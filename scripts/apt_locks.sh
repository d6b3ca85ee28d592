# Sourced by setup.sh: wait for apt's and dpkg's locks instead of failing on them (a
# fresh machine often runs unattended-upgrades or apt-daily right after boot).
# apt-get install waits by itself with DPkg::Lock::Timeout; apt-get update does not
# wait for the lists lock, so wait_for_apt_locks blocks on each lock (fcntl F_SETLKW,
# the kind apt takes) until it is free, and lets go of it at once.

APT_LOCK_TIMEOUT=${APT_LOCK_TIMEOUT:-600}
APT_LOCKS=(/var/lib/dpkg/lock-frontend /var/lib/dpkg/lock /var/lib/apt/lists/lock)

lock_holder() {  # lock_holder FILE: "COMMAND (PID N)" of the process holding FILE's lock
    local pid
    pid=$(lslocks --noheadings --raw --output PID,PATH 2>/dev/null |
        awk -v path="$1" '$2 == path { print $1; exit }')
    [[ -n $pid ]] || return 1
    if [[ $pid -gt 0 ]]; then
        printf '%s (PID %s)' "$(ps -o comm= -p "$pid" 2>/dev/null || echo '?')" "$pid"
    else
        printf 'another process'
    fi
}

wait_for_lock() {  # wait_for_lock FILE: block until FILE's write lock is free
    perl -MFcntl -e '
        open(my $file, "+<", $ARGV[0]) or exit 0;
        $SIG{ALRM} = sub { exit 3 };
        alarm($ARGV[1]);
        # struct flock on 64-bit Linux: type, whence, start, len, pid
        my $lock = pack("s s x4 q q i x4", F_WRLCK, 0, 0, 0, 0);
        fcntl($file, F_SETLKW, $lock) or exit 4;
    ' "$1" "$APT_LOCK_TIMEOUT"
}

wait_for_apt_locks() {
    local lock holder
    for lock in "${APT_LOCKS[@]}"; do
        holder=$(lock_holder "$lock") || continue
        printf 'setup: waiting up to %ss for %s, held by %s (apt or unattended-upgrades)\n' \
            "$APT_LOCK_TIMEOUT" "$lock" "$holder" >&2
        if ! wait_for_lock "$lock"; then
            printf 'setup: %s is still held by %s after %ss; try again when it is done\n' \
                "$lock" "$holder" "$APT_LOCK_TIMEOUT" >&2
            return 1
        fi
    done
}

apt_get() {  # apt-get with the locks waited for; update retries when it lost a race
    local attempt
    for attempt in 1 2 3; do
        wait_for_apt_locks || return 1
        if apt-get -o DPkg::Lock::Timeout="$APT_LOCK_TIMEOUT" "$@"; then
            return 0
        fi
        # A lock taken between our wait and apt's own attempt: apt exits 100 at once.
        lock_holder /var/lib/apt/lists/lock >/dev/null ||
            lock_holder /var/lib/dpkg/lock-frontend >/dev/null || return 1
    done
    return 1
}
