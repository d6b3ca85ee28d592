"""The trap guard process: the debugged program never pays for its debugger's death.

Who starts it: the gdb session, through its parent-side handle `trap_guard.TrapGuard`
(`TrapGuard.start`), with every attach, armed before `-target-attach`; `cntr-tui gdb`'s
console does the same. Where it runs: on the host, in the host's namespaces (host
files and host PIDs only), in its own session (no terminal's SIGHUP or SIGINT reaches
it; SIGHUP ignored), so that it outlives the front end that started it.

    python -I -S -c "import sys; sys.path.insert(0, PARENT); \
        from cntr_tui.gdb.guard_process import main; main()" ARGUMENTS
    ARGUMENTS: GDB_PID TARGET_PID                                   # native
               GDB_PID TARGET_PID --gdbserver SERVER_PID \
                   TARGET_PID_IN_ITS_NAMESPACE TO_SERVER_FD FROM_SERVER_FD   # host PIDs

What it must never import: it starts while gdb attaches and reads symbols on the same
cores, so it runs in `python -I -S` and imports only cheap modules: the standard
library's os, errno, select, sys, time and _signal, `trap_rescue` and the Linux layer's
cheap modules (procfs, proc_stat, proc_status, pidfd, memory, fds). Never asyncio,
json, signal, contextlib, dataclasses, enum, re, typing, nor any other module of ours
(`python -X importtime` shows each: the whole start is ~15 ms of CPU).

A tracer plants `int3` (0xCC) bytes in the program's code for breakpoints and removes
them when it detaches. If it dies while the program runs, the kernel detaches the
program with the traps still in place, and the next thread to reach one dies of
SIGTRAP.

With gdbserver as the tracer (the default, see gdbserver.py) the guard holds our ends
of gdbserver's stdin and stdout. gdbserver then never sees its connection end when gdb
dies (killed, a SIGBUS because the merged root's file server went away), and gdbserver
13 would detach without taking its traps out, or leave the program stopped. Instead,
when gdb is gone, the guard speaks the remote protocol itself: stop the program
(SIGSTOP), remove every trap it finds in the code (`z0`), stop catching syscalls and
resume and stop it once, traced and with no trap left (`drain_stops`: gdbserver
refuses `D` while it holds a thread's syscall stop, and its detach would cancel our
stop while a thread still holds one of its own SIGSTOPs), queue a SIGSTOP, detach
(`D`: each thread takes that SIGSTOP as it is let go), close the connection; then, the
program still stopped, seize it once to disable any hardware watchpoint gdb left
enabled (debug register 7: gdbserver's detach keeps them, and no memory scan shows
them), and continue it (see detach_one). It is stopped or traced all along: no thread
can meet a trap or an armed watchpoint untraced.

After the tracer is gone the guard checks the program, and touches it only if needed
(`trap_rescue.settle`): a trap left in file-backed code (memory reads 0xCC where the
mapped file does not) -> stop it (SIGSTOP), seize its threads, put the bytes back,
move back the PC of a thread that executed one, detach and continue; a program left
stopped with no tracer -> SIGCONT; otherwise nothing (no signal at all). With gdb as
the tracer (`native`), gdb's death leaves only this rescue, which a thread executing a
trap in the instant before the SIGSTOP does not survive. Likewise when gdbserver
itself is killed. x86-64 only.

Every process gdb holds is watched, not only the one attached: the session says
`watch HOST_PID PID` (PID as gdbserver sees it) when gdb reports another (a fork's
child it follows or keeps, an inferior attached from the console) and `unwatch
HOST_PID` when gdb lets one go; at the takeover the guard also takes every process
gdbserver traces (a fork's child is traced before the session hears of it). Each is
stopped, has its traps removed before any is resumed, and is detached (`D;PID`), then
checked as above. Before, only the attached process was: gdbserver's own exit let the
others go with its traps in place (a trap left in a second process attached from the
console, 3 of 3 runs).

stdin: a line `release` ends the guard without touching anything; `detached` (a clean
detach) ends it after the check above; a line `freeze` stops the program now (SIGSTOP,
native only), before the session kills a gdb it no longer trusts; the rescue that
follows always continues the program. The end of stdin without either word means our
front end died (SIGKILL, a crash): the guard SIGKILLs gdb (its state is unknown) and
does what it does after gdb's death. So that gdbserver lives until then, the guard
inherits a copy of our channel to gdbserver's attach helper (pipes.GdbserverProcess.hold),
which ends gdbserver once every copy is closed; it is closed when the guard exits.

stdout (skipped when no one reads it any more): `ready` once armed; at the end one
JSON line {"restored": N, "threads": M, "error": ..., "detached_by_guard": bool,
"continued": bool} ({"gone": true} if the program is gone; "server_attached": false if
gdb died before gdbserver attached; "others_detached": N, the other processes its `D`
let go). The same line, with "guarded": TARGET_PID first, is appended to the file
given with `--trace` (CNTR_TUI_GUARD_TRACE), if set.
"""

from __future__ import annotations

import _signal  # the C module: `signal` would import enum (see above)
import os
import select
import sys
import time

from cntr_tui.gdb.trap_rescue import (
    NOTHING_DONE,
    SIGCONT,
    SIGKILL,
    SIGSTOP,
    rescue,
    send_signal,
    settle,
    traps_in,
)
from cntr_tui.linux.fds import pipe_readers
from cntr_tui.linux.pidfd import open_pidfd, wait_exit
from cntr_tui.linux.proc_stat import alive
from cntr_tui.linux.proc_status import (
    SIGINT,
    nspids_of,
    pending_anywhere,
    status_fields,
    tracer_pid,
)

TAKEOVER_TIMEOUT = 10.0
RESTOP_INTERVAL = 0.3
STOP_REPLIES = b"TSWX"  # the first byte of a stop reply: stopped, or W/X exited
EXITED = b"WX"
STOP_BIT = 1 << (SIGSTOP - 1)
INTERRUPT_BIT = 1 << (SIGINT - 1)
# `D` refused (E01: a syscall stop still held, see drain_stops): drain and ask again.
# Threads detached before the refusal run on (no trap is left); a SIGSTOP that one of
# them takes stops the whole program, which the rescue after the detach continues.
DETACH_ATTEMPTS = 3
DRAIN_TIMEOUT = 3.0  # for drain_stops, leaving the rest of the takeover's time to `D`


def close_quietly(fd: int) -> None:
    try:  # noqa: SIM105  contextlib.suppress: its import costs a tenth of our start
        os.close(fd)
    except OSError:
        pass


class ServerLink:
    """The guard's hold on gdbserver: its PID (ours), the target's PID as gdbserver sees
    it, and our ends of its stdin and stdout."""

    def __init__(self, pid: int, target_pid: int, to_server: int, from_server: int):
        self.pid = pid
        self.target_pid = target_pid
        self.to_server = to_server
        self.from_server = from_server

    def close(self) -> None:
        close_quietly(self.to_server)
        close_quietly(self.from_server)


def packet(data: bytes) -> bytes:
    return b"$" + data + b"#%02x" % (sum(data) & 0xFF)


class PacketReader:
    """Remote protocol packets from gdbserver, in order (no-ack mode: `$data#cs`;
    `%...#cs` notifications and bytes between packets are skipped)."""

    def __init__(self, fd: int):
        self.fd = fd
        self.buffer = b""
        self.ended = False  # gdbserver closed its stdout

    def take(self) -> bytes | None:
        """The next complete packet in the buffer, if any."""
        while True:
            starts = [i for i in (self.buffer.find(b"$"), self.buffer.find(b"%")) if i >= 0]
            if not starts:
                self.buffer = b""
                return None
            start = min(starts)
            end = self.buffer.find(b"#", start + 1)
            if end < 0 or len(self.buffer) < end + 3:
                self.buffer = self.buffer[start:]
                return None
            data, kind = self.buffer[start + 1 : end], self.buffer[start : start + 1]
            self.buffer = self.buffer[end + 3 :]
            if kind == b"$":
                return data

    def next(self, deadline: float) -> bytes | None:
        while (data := self.take()) is None:
            left = deadline - time.monotonic()
            if left <= 0:
                return None
            readable, _, _ = select.select([self.fd], [], [], left)
            chunk = os.read(self.fd, 65536) if readable else b""
            if readable and not chunk:
                self.ended = True
            if not chunk:
                return None
            self.buffer += chunk
        return data


def end_other_readers(fd: int, keep: set[int]) -> None:
    """SIGKILL every other process that reads the pipe `fd` reads (gdb's bridge, orphaned
    by gdb's death: it would take gdbserver's answers meant for us). Writers are left
    alone: gdbserver's own session helper holds its stdout too."""
    for reader in pipe_readers(fd, keep):
        pidfd = open_pidfd(reader)
        send_signal(reader, SIGKILL)
        if pidfd is not None:
            wait_exit(pidfd, 2.0)
            os.close(pidfd)


def stop_queued(pid: int) -> bool:
    """A SIGSTOP queued for the whole process: ours (gdbserver's own go to one thread)."""
    try:
        return bool(int(status_fields(pid).get("ShdPnd", "0"), 16) & STOP_BIT)
    except (OSError, ValueError):
        return False


def nothing_held(pid: int) -> bool:
    """No SIGSTOP or SIGINT queued that `D` would let go with the program: our SIGSTOP
    for the process; gdbserver's for one thread (sent to stop it while it reported
    another event, a watchpoint's trap: gdbserver still expects it, and its detach sends
    that thread a SIGCONT, which cancels every stop queued for the program); a SIGINT
    for the process or a thread (the session's interrupt)."""
    return not pending_anywhere(pid) & (STOP_BIT | INTERRUPT_BIT)


def queue_stop(server: ServerLink, host_pid: int) -> None:
    """A SIGSTOP queued for the program while gdbserver traces it, unless one is."""
    if tracer_pid(host_pid) == server.pid and not stop_queued(host_pid):
        os.kill(host_pid, SIGSTOP)


def next_stop(
    server: ServerLink, host_pid: int, reader: PacketReader, deadline: float
) -> bytes | None:
    """gdbserver's next stop reply, a SIGSTOP queued again each RESTOP_INTERVAL while
    none comes. None if none came before `deadline`."""
    while time.monotonic() < deadline and not reader.ended:
        reply = reader.next(min(deadline, time.monotonic() + RESTOP_INTERVAL))
        if reply and reply[:1] in STOP_REPLIES:
            return reply
        if reply is None:
            queue_stop(server, host_pid)
    return None


def drain_stops(
    server: ServerLink, host_pid: int, reader: PacketReader, deadline: float
) -> bytes | None:
    """Before `D`: let gdbserver drop the stops it holds for threads it caught in a
    syscall, with no trap left in the code. Its last stop reply (None: none in time).

    To report one event, gdbserver stops every other thread and keeps what each
    stopped for as a pending status: with a syscall catchpoint set, threads stopped at
    a syscall's entry or exit (status SIGTRAP | 0x80). At `D` it delivers each pending
    status as a signal, and PTRACE_DETACH with signal 0x85 fails with EIO ("Can't
    detach LWP ...: Input/output error": `D` answered E01, measured with gdbserver 13's
    --debug). QCatchSyscalls:0 alone changes no status already pending; a resume does:
    gdbserver then ignores, and resumes, each pending syscall stop it no longer
    catches, but reports first any other status it holds (our SIGSTOP, taken by one
    thread while it stopped the others for a syscall stop). So: stop catching (for our
    process: `Hg` first), then resume and stop (SIGSTOP) until a stop that took our
    queued SIGSTOP and is no syscall stop: the threads ran, nothing is held. Nor a
    SIGINT queued (the session's interrupt, sent as gdb died): a thread takes it under
    gdbserver, which reports it and resumes without it (as gdb, `handle SIGINT
    nopass`); let go with it queued, the program would take it untraced (the demo's
    handler ends it)."""
    os.write(server.to_server, packet(b"Hgp%x.0" % server.target_pid))
    reader.next(deadline)
    os.write(server.to_server, packet(b"QCatchSyscalls:0"))
    reader.next(deadline)  # OK; empty from a gdbserver that cannot catch syscalls
    reply = None
    while time.monotonic() < deadline and not reader.ended:
        queue_stop(server, host_pid)  # before the resume: a stop that took it is new
        os.write(server.to_server, packet(b"vCont;c"))
        reply = next_stop(server, host_pid, reader, deadline)
        if reply is None or reply[:1] in EXITED:
            return reply
        if b"syscall_" not in reply and nothing_held(host_pid):
            return reply
    return reply


def traced_by(server: ServerLink, host_pid: int) -> bool:
    return tracer_pid(host_pid) == server.pid


def detach_through_gdbserver(
    server: ServerLink, host_pid: int, others: dict[int, int] | None = None
) -> dict[str, object]:
    """Take over gdb's connection: interrupt, remove the traps, let gdbserver drop the
    stops it holds (drain_stops), detach. Nothing to do when gdb died before gdbserver
    attached (the guard is armed before the attach).

    `others`: the other processes gdbserver holds for gdb (host PID -> PID in
    gdbserver's namespace: a fork's other side, an inferior attached from the console):
    each is stopped with the program, has its traps removed (`Hg` to it first: a `z0`
    is for the current process) before any process is resumed, and is detached after
    the program. The outcome's "detached_hosts" names every process `D` let go."""
    others = {pid: inner for pid, inner in (others or {}).items() if pid != host_pid}
    if not alive(host_pid):
        if not any(alive(pid) for pid in others):
            return {}
        # the program left (a fork followed into the child): another one is asked
        host_pid, server = next_primary(server, others)
    end_other_readers(server.from_server, {os.getpid(), server.pid})
    reader = PacketReader(server.from_server)
    deadline = time.monotonic() + TAKEOVER_TIMEOUT
    stopped = False
    held = {pid: inner for pid, inner in others.items() if traced_by(server, pid)}
    try:
        # Not gdbserver's interrupt (^C): it signals the target's process group, for a
        # container's PID 1 that is kill(-1). SIGSTOP stops a running program under
        # gdbserver; if it stopped already, the signal waits and the program stops
        # after the detach: `settle` continues it either way. A program gdbserver does
        # not trace (yet: an attach in flight leaves it stopped) gets no signal.
        stopped = traced_by(server, host_pid)
        if stopped:
            os.kill(host_pid, SIGSTOP)
        for pid in held:
            send_signal(pid, SIGSTOP)
        # `#00` ends a packet gdb may have left half written; then a marker question
        marker = packet(b"qAttached:%x" % server.target_pid)
        os.write(server.to_server, b"#00" + marker)
        ask_again = False
        while (reply := reader.next(min(deadline, time.monotonic() + RESTOP_INTERVAL))) not in (
            b"1",
            b"0",
        ):
            traced = traced_by(server, host_pid)
            if reply is not None and reply.startswith(b"qSymbol:"):
                # gdb died in a symbol look-up gdbserver asked of it (thread_db, after a
                # stop): gdbserver took our marker for the answer. The symbol is
                # unknown; once gdbserver is done asking, the marker goes again.
                os.write(server.to_server, packet(b"qSymbol::" + reply[len(b"qSymbol:") :]))
                ask_again = True
            elif reply is None and ask_again and time.monotonic() < deadline:
                os.write(server.to_server, marker)
                ask_again = False
            elif reply is None and time.monotonic() < deadline:
                # gdbserver took it for one of the stops it asks for itself (it stops
                # every thread to step one over a breakpoint): stop again
                if traced:
                    os.kill(host_pid, SIGSTOP)
                    stopped = True
            elif reply is None:
                return {"takeover_error": "gdbserver did not answer"}
            elif reply.startswith(b"E") and not alive(host_pid):
                return {"takeover_error": "the program is gone"}
            elif reply.startswith(b"E") and not traced:
                # gdbserver answers in order: it never attached, and no one is left
                # to ask it to
                return {"detached_by_guard": False, "server_attached": False}
        removed = 0
        for pid, inner in [(host_pid, server.target_pid), *held.items()]:
            if pid != host_pid or held:  # with one process, it is the current one
                os.write(server.to_server, packet(b"Hgp%x.0" % inner))
                reader.next(deadline)
            for address in sorted(traps_in(pid)):
                os.write(server.to_server, packet(b"z0,%x,1" % address))
                if reader.next(deadline) == b"OK":
                    removed += 1
        detached_hosts = []
        detached = None
        for pid, inner in [(host_pid, server.target_pid), *held.items()]:
            link = ServerLink(server.pid, inner, server.to_server, server.from_server)
            answer = detach_one(link, pid, reader, deadline)
            if answer == b"W" and not held:
                return {"takeover_error": "the program is gone"}
            if answer == b"OK":
                detached_hosts.append(pid)
            if pid == host_pid:
                detached = answer
    except ProcessLookupError:
        return {"takeover_error": "the program is gone"}
    except OSError as error:
        return {"takeover_error": str(error), "stopped_by_guard": stopped}
    outcome: dict[str, object] = {
        "removed_by_gdbserver": removed,
        "detached_by_guard": detached == b"OK",
        "stopped_by_guard": stopped,
    }
    if others:
        outcome["detached_hosts"] = tuple(detached_hosts)
        outcome["others_detached"] = len(detached_hosts) - (detached == b"OK")
    return outcome


def next_primary(server: ServerLink, others: dict[int, int]) -> tuple[int, ServerLink]:
    """The first live one of `others`, and the link that names it to gdbserver."""
    pid = next(pid for pid in others if alive(pid))
    inner = others.pop(pid)
    return pid, ServerLink(server.pid, inner, server.to_server, server.from_server)


def detach_one(
    server: ServerLink, host_pid: int, reader: PacketReader, deadline: float
) -> bytes | None:
    """`D` for one process, its held stops drained first (see drain_stops): gdbserver's
    answer (OK, E01; None: none in time), b"W" when the process exited meanwhile.

    A SIGSTOP is queued for the process just before `D`, so that it stays stopped once
    let go: gdbserver's detach leaves gdb's hardware watchpoints armed in each thread's
    debug registers (only `z2`-`z4` with gdb's address and length, which gdb alone knew,
    would clear them), and a thread let go running traps on the next write to a watched
    address, untraced: SIGTRAP kills the program. Stopped, each thread waits for the
    rescue that follows (`after_gdb`), which clears debug register 7 and continues it.
    A thread stopped by ptrace takes a queued signal before it returns to its own code
    (the kernel rechecks its signals as it leaves the ptrace stop). For that, no thread
    may still hold a SIGSTOP of gdbserver's (drain_stops waits for none, `nothing_held`):
    gdbserver's detach sends such a thread a SIGCONT, which cancels our stop too.
    Without both: a watchpoint on a local written ~1,000 times a tick, the program
    died in 12 of the 12 front-end deaths the guard's detach handles (two runs of
    tests/runtime/test_frontend_death.py's "through a hot watchpoint"); with the queued
    SIGSTOP alone, in 5 of 8 (of the 3 of those logged, a thread held gdbserver's SIGSTOP
    at `D` in 2; in the third the program was already dying, untraced, before `D`)."""
    detached = None
    for _attempt in range(DETACH_ATTEMPTS):
        if traced_by(server, host_pid):  # only a tracer holds stops
            drained = min(deadline, time.monotonic() + DRAIN_TIMEOUT)
            stop = drain_stops(server, host_pid, reader, drained)
            if stop is not None and stop[:1] in EXITED and not alive(host_pid):
                return b"W"  # another process's exit: its `D` is tried all the same
        # every thread stopped under gdbserver: this SIGSTOP waits in the queue, and each
        # thread takes it as `D` lets it go, before any instruction of its own
        queue_stop(server, host_pid)
        os.write(server.to_server, packet(b"D;%x" % server.target_pid))
        detached = reader.next(deadline)
        if detached != b"E01":
            break
    return detached


def ended_within(pidfd: int | None, timeout: float) -> bool:
    """Whether the process of `pidfd` ended within `timeout` (None: gone already)."""
    return pidfd is None or wait_exit(pidfd, timeout)


class Watched:
    """The processes the guard watches, host PID -> PID in gdbserver's namespace (the
    same without gdbserver): the program, and every other process gdb holds that the
    session tells of (`watch HOST_PID PID` / `unwatch HOST_PID` on stdin). Each is held
    by a pidfd, so that a PID reused after an exit is never touched."""

    def __init__(self, target_pid: int, target_inner: int):
        self.target_pid = target_pid
        self.processes: dict[int, int] = {}
        self.pidfds: dict[int, int | None] = {}
        # where gdbserver's namespace is in a process's NSpid line
        self.depth = namespace_depth(target_pid, target_inner)
        self.add(target_pid, target_inner)

    def add(self, host_pid: int, inner: int) -> None:
        if host_pid not in self.processes:
            self.processes[host_pid] = inner
            self.pidfds[host_pid] = open_pidfd(host_pid)

    def remove(self, host_pid: int) -> None:
        self.processes.pop(host_pid, None)
        pidfd = self.pidfds.pop(host_pid, None)
        if pidfd is not None:
            close_quietly(pidfd)

    def live(self) -> dict[int, int]:
        """Those still running (their pidfd not ended), the program first."""
        return {
            pid: inner
            for pid, inner in sorted(self.processes.items(), key=lambda p: p[0] != self.target_pid)
            if self.pidfds.get(pid) is not None and not wait_exit(self.pidfds[pid], 0)
        }

    def with_tracees_of(self, tracer: int) -> dict[int, int]:
        """`live()` and every other process `tracer` traces (gdbserver holds a fork's
        child from the fork on, before the session can tell of it), those `tracer`
        traces first."""
        found = dict(self.live())
        for entry in os.listdir("/proc"):
            if entry.isdigit() and int(entry) not in found:
                try:
                    fields = status_fields(entry)
                except OSError:
                    continue
                nspids = nspids_of(fields, int(entry))
                if fields.get("TracerPid") == str(tracer) and len(nspids) > self.depth:
                    found[int(entry)] = nspids[self.depth]
        return dict(sorted(found.items(), key=lambda p: tracer_pid(p[0]) != tracer))

    def close(self) -> None:
        for pid in list(self.processes):
            self.remove(pid)


def namespace_depth(host_pid: int, inner: int) -> int:
    """The index of `inner` in `host_pid`'s NSpid line (0: the host's namespace)."""
    try:
        nspids = nspids_of(status_fields(host_pid), host_pid)
    except OSError:
        return 0
    return nspids.index(inner) if inner in nspids else len(nspids) - 1


def combined(outcomes: dict[int, dict[str, object]], target_pid: int) -> dict[str, object]:
    """One outcome for the processes: the program's (or the first's, once it left),
    the counts summed, how many processes."""
    if not outcomes:
        return {"restored": 0, "threads": 0, "error": None, "gone": True}
    live = {pid: outcome for pid, outcome in outcomes.items() if not outcome.get("gone")}
    first = live.get(target_pid) or next(iter(live.values()), None)
    first = first or outcomes.get(target_pid) or next(iter(outcomes.values()))
    if len(outcomes) == 1:
        return first
    outcome = dict(first)
    for key in ("restored", "threads"):
        outcome[key] = sum(int(o.get(key, 0) or 0) for o in live.values())  # type: ignore[call-overload]
    errors = [str(o["error"]) for o in live.values() if o.get("error")]
    outcome["error"] = "; ".join(errors) or None
    outcome["continued"] = any(o.get("continued") for o in live.values())
    outcome["processes"] = len(live)
    return outcome


def guard(gdb_pid: int, target_pid: int, server: ServerLink | None) -> dict[str, object] | None:
    """Wait for gdb's end (or gdbserver's); make every watched process safe unless
    released first. A `release` already waiting on stdin wins over gdb's end (gdb exits
    right after a clean detach)."""
    gdb_fd = open_pidfd(gdb_pid)
    tracer_fd = open_pidfd(server.pid) if server is not None else gdb_fd
    watched = Watched(target_pid, server.target_pid if server is not None else target_pid)
    report("ready")
    watching_stdin = True
    while True:
        fds = [fd for fd in {gdb_fd, tracer_fd} if fd is not None]
        fds += [sys.stdin] if watching_stdin else []
        timeout = 0 if gdb_fd is None or tracer_fd is None else None
        readable, _, _ = select.select(fds, [], [], timeout)
        if sys.stdin in readable:
            line = sys.stdin.readline()
            words = line.split()
            if words[:1] == ["watch"] and len(words) == 3:
                watched.add(int(words[1]), int(words[2]))
            elif words[:1] == ["unwatch"] and len(words) == 2:
                watched.remove(int(words[1]))
            elif line.strip() == "release":
                if server is not None:
                    server.close()
                return None
            elif line.strip() == "detached":  # the tracer detached: check, touch if needed
                if server is not None:
                    server.close()
                return combined({pid: settle(pid) for pid in watched.live()}, target_pid)
            elif line.strip() == "freeze":
                if server is None:
                    for pid in watched.live():
                        send_signal(pid, SIGSTOP)
                report("frozen")
            elif not line:
                # our front end is gone without a word: gdb (in a state no one knows) is
                # ended, and the program made safe as after gdb's death
                watching_stdin = False
                if server is None:
                    for pid in watched.live():
                        send_signal(pid, SIGSTOP)  # no trap reached while gdb dies
                send_signal(gdb_pid, SIGKILL)
            continue
        if server is None:
            if gdb_fd is None or gdb_fd in readable:
                return combined({pid: rescue(pid) for pid in watched.live()}, target_pid)
            continue
        return after_gdb(server, watched, tracer_fd, target_pid)


def after_gdb(
    server: ServerLink, watched: Watched, tracer_fd: int | None, target_pid: int
) -> dict[str, object]:
    """gdb is gone (or gdbserver is): detach gdbserver from every process it holds for
    gdb, end it, then check each process (`rescue` those the guard detached: gdb may
    have left watchpoints enabled)."""
    takeover: dict[str, object] = {}
    processes = watched.with_tracees_of(server.pid)
    if tracer_fd is not None and not wait_exit(tracer_fd, 0) and processes:
        # gdb is gone, gdbserver still holds the program: detach it cleanly
        primary, *rest = processes
        link = ServerLink(server.pid, processes[primary], server.to_server, server.from_server)
        others = {pid: processes[pid] for pid in rest}
        takeover = detach_through_gdbserver(link, primary, others)
    server.close()  # gdbserver sees its connection end and exits
    if not ended_within(tracer_fd, TAKEOVER_TIMEOUT):
        send_signal(server.pid, SIGKILL)  # stuck: the rescue below follows
        ended_within(tracer_fd, TAKEOVER_TIMEOUT)
    detached_hosts = takeover.pop("detached_hosts", None)
    if detached_hosts is None:
        detached_hosts = (next(iter(processes)),) if takeover.get("detached_by_guard") else ()
    outcomes = {}
    for pid in processes:
        if not alive(pid):
            outcomes[pid] = {"restored": 0, "threads": 0, "error": None, "gone": True}
        elif pid in detached_hosts:
            # gdb died between commands: watchpoints it had inserted are still enabled
            # in the debug registers (only ptrace reaches them), a stop we asked for
            # may still be on its way: the rescue clears them, and ends with SIGCONT
            outcomes[pid] = {**rescue(pid), "continued": True}
        else:
            outcome = settle(pid)
            if takeover.get("stopped_by_guard") and outcome == NOTHING_DONE:
                # a takeover that failed after our SIGSTOP: settle saw the program
                # running with nothing pending, but that stop may still be under way (a
                # group stop not yet at every thread shows in no /proc field)
                send_signal(pid, SIGCONT)
                outcome["continued"] = True
            outcomes[pid] = outcome
    watched.close()
    return {**combined(outcomes, target_pid), **takeover}


JSON_ESCAPES = {'"': '\\"', "\\": "\\\\", "\n": "\\n", "\r": "\\r", "\t": "\\t"}


def json_value(value: object) -> str:
    """JSON for the outcome's values (None, bool, int, str): the json module would import
    re and enum, a quarter of our start."""
    if value is None or isinstance(value, bool):
        return {None: "null", True: "true", False: "false"}[value]
    if isinstance(value, int):
        return str(value)
    text = str(value)
    escaped = (JSON_ESCAPES.get(c) or (f"\\u{ord(c):04x}" if c < " " else c) for c in text)
    return '"' + "".join(escaped) + '"'


def outcome_line(outcome: dict[str, object]) -> str:
    return "{" + ", ".join(f"{json_value(k)}: {json_value(v)}" for k, v in outcome.items()) + "}"


def report(line: str) -> None:
    """A line on stdout, unless no one reads it any more (our front end died)."""
    try:  # noqa: SIM105  (see close_quietly)
        os.write(1, line.encode() + b"\n")
    except OSError:
        pass


def record(line: str, path: str | None) -> None:
    """The outcome appended to the file `path` (`--trace`, CNTR_TUI_GUARD_TRACE), if one
    is given (tests: the guard's account of a detach, once the front end that would
    read it is gone)."""
    if not path:
        return
    try:
        fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT | os.O_CLOEXEC, 0o600)
    except OSError:
        return
    try:  # noqa: SIM105  (see close_quietly)
        os.write(fd, line.encode() + b"\n")
    except OSError:
        pass
    os.close(fd)


def main(argv: list[str] | None = None) -> None:
    """Entry point; `argv` defaults to the command line (after `-c CODE` or the module)."""
    arguments = sys.argv[1:] if argv is None else list(argv)
    trace = None
    if len(arguments) >= 2 and arguments[-2] == "--trace":
        trace = arguments.pop()
        arguments.pop()
    gdb_pid, target_pid = int(arguments[0]), int(arguments[1])
    server = None
    if len(arguments) == 7 and arguments[2] == "--gdbserver":
        pid, target_in_namespace, to_server, from_server = (int(v) for v in arguments[3:7])
        server = ServerLink(pid, target_in_namespace, to_server, from_server)
    _signal.signal(_signal.SIGHUP, _signal.SIG_IGN)
    outcome = guard(gdb_pid, target_pid, server)
    if outcome is not None:
        report(outcome_line(outcome))
        record(outcome_line({"guarded": target_pid, **outcome}), trace)
    # The session waits for our exit after a detach: skip the interpreter's teardown
    # (nothing to flush or release that the kernel does not), a few ms.
    os._exit(0)


if __name__ == "__main__":
    main()
