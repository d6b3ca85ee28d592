"""The trap guard: the debugged program never pays for its debugger's death.

A tracer plants `int3` (0xCC) bytes in the program's code for breakpoints and removes
them when it detaches. If it dies while the program runs, the kernel detaches the
program with the traps still in place, and the next thread to reach one dies of
SIGTRAP. The guard is a small host process (host files only) started next to gdb.

With gdbserver as the tracer (the default, see gdbserver.py) the guard holds our ends
of gdbserver's stdin and stdout. gdbserver then never sees its connection end when gdb
dies (killed, a SIGBUS because the merged root's file server went away), and gdbserver
13 would detach without taking its traps out, or leave the program stopped. Instead,
when gdb is gone, the guard speaks the remote protocol itself: stop the program
(SIGSTOP), remove every trap it finds in the code (`z0`), detach (`D`), close the
connection; then, the program still stopped by that SIGSTOP, seize it once to disable
any hardware watchpoint gdb left enabled (debug register 7: gdbserver's detach keeps
them, and no memory scan shows them), and continue it. It is stopped all along: no
thread can meet a trap untraced.

After the tracer is gone the guard checks the program, and touches it only if needed:
a trap left in file-backed code (memory reads 0xCC where the mapped file does not,
read through /proc/PID/map_files) -> stop it (SIGSTOP), seize its threads, put the
bytes back, move back the PC of a thread that executed one, detach and continue; a
program left stopped with no tracer -> SIGCONT; otherwise nothing (no signal at all).
With gdb as the tracer (`native`), gdb's death leaves only this rescue, which a
thread executing a trap in the instant before the SIGSTOP does not survive. Likewise
when gdbserver itself is killed. x86-64 only.

    python -I -S -c "...; from cntr_tui.gdb.guard import main; main()" ARGUMENTS
    ARGUMENTS: GDB_PID TARGET_PID                                   # native
               GDB_PID TARGET_PID --gdbserver SERVER_PID \
                   TARGET_PID_IN_ITS_NAMESPACE TO_SERVER_FD FROM_SERVER_FD   # host PIDs

stdin: a line `release` ends the guard without touching anything; `detached` (a clean
detach) ends it after the check above; a line `freeze` stops the program now (SIGSTOP,
native only), before the session kills a gdb it no longer trusts; the rescue that
follows always continues the program. The end of stdin without either word means our
front end died (SIGKILL, a crash): the guard SIGKILLs gdb (its state is unknown) and
does what it does after gdb's death. So that gdbserver lives until then, the guard
inherits a copy of our channel to gdbserver's attach helper (pipes.GdbserverProcess.hold),
which ends gdbserver once every copy is closed; it is closed when the guard exits.

The guard outlives the front end: its own session (no terminal's SIGHUP or SIGINT
reaches it) and SIGHUP ignored; its report on stdout is skipped when no one reads it.
stdout: `ready` once armed; at the end one JSON line {"restored": N, "threads": M,
"error": ..., "detached_by_guard": bool, "continued": bool} ({"gone": true} if the
program is gone; "server_attached": false if gdb died before gdbserver attached).

It starts with every attach, armed before `-target-attach`, while gdb attaches and
reads symbols on the same cores: so it runs in `python -I -S` and imports only cheap
modules (no asyncio, json, signal, contextlib, dataclasses; ctypes only for a
rescue): ~15 ms of CPU. Its asyncio handle, for the session, is `trap_guard.TrapGuard`.
"""

from __future__ import annotations

import _signal  # the C module: `signal` would import enum (see below)
import errno
import os
import select
import sys
import time

# x86-64 Linux numbers: the signal module would import enum, a tenth of our start.
SIGKILL, SIGCONT, SIGSTOP = 9, 18, 19
PTRACE_PEEKUSER = 3
PTRACE_POKEUSER = 6
PTRACE_GETREGS = 12
PTRACE_SETREGS = 13
PTRACE_DETACH = 17
PTRACE_SEIZE = 0x4206
PTRACE_INTERRUPT = 0x4207
WALL = 0x40000000
RIP_INDEX = 16  # in struct user_regs_struct (x86-64)
DR7_OFFSET = 848 + 7 * 8  # offsetof(struct user, u_debugreg[7]) (x86-64)
TRAP = 0xCC
CHUNK = 1 << 20
TAKEOVER_TIMEOUT = 10.0
RESTOP_INTERVAL = 0.3


class Ptrace:
    """ptrace(2) through libc, for a rescue only (ctypes is loaded then, not at start)."""

    def __init__(self) -> None:
        import ctypes

        self._ctypes = ctypes
        self._libc = ctypes.CDLL("libc.so.6", use_errno=True)
        self._libc.ptrace.argtypes = [
            ctypes.c_long,
            ctypes.c_long,
            ctypes.c_void_p,
            ctypes.c_void_p,
        ]
        self._libc.ptrace.restype = ctypes.c_long

    def __call__(self, request: int, tid: int, address: int = 0, data: int = 0) -> int:
        ctypes = self._ctypes
        result = self._libc.ptrace(request, tid, ctypes.c_void_p(address), ctypes.c_void_p(data))
        if result == -1:
            error = ctypes.get_errno()
            raise OSError(error, f"ptrace({request:#x}, {tid}): {os.strerror(error)}")
        return result

    def program_counter(self, tid: int) -> tuple[int, object]:
        """The thread's PC and its registers (for `set_program_counter`)."""
        registers = (self._ctypes.c_ulonglong * 27)()
        self(PTRACE_GETREGS, tid, 0, self._ctypes.addressof(registers))
        return registers[RIP_INDEX], registers

    def set_program_counter(self, tid: int, registers: object, pc: int) -> None:
        registers[RIP_INDEX] = pc  # type: ignore[index]
        self(PTRACE_SETREGS, tid, 0, self._ctypes.addressof(registers))


def send_signal(pid: int, number: int) -> bool:
    """kill(2); False when the process is gone."""
    try:
        os.kill(pid, number)
    except ProcessLookupError:
        return False
    return True


def close_quietly(fd: int) -> None:
    try:  # noqa: SIM105  contextlib.suppress: its import costs a tenth of our start
        os.close(fd)
    except OSError:
        pass


class Mapping:
    """An executable, file-backed mapping: its address range and offset in the file."""

    __slots__ = ("end", "offset", "start")

    def __init__(self, start: int, end: int, offset: int):
        self.start, self.end, self.offset = start, end, offset


def code_mappings(pid: int) -> list[Mapping]:
    """Executable, file-backed mappings of `pid` (where gdb's traps can be)."""
    mappings = []
    with open(f"/proc/{pid}/maps") as maps:
        for line in maps:
            fields = line.split(maxsplit=5)
            if len(fields) < 6 or "x" not in fields[1] or not fields[5].startswith("/"):
                continue
            start, end = (int(part, 16) for part in fields[0].split("-"))
            mappings.append(Mapping(start, end, int(fields[2], 16)))
    return mappings


def find_traps(pid: int, memory_fd: int) -> dict[int, bytes]:
    """Addresses where memory holds a trap the mapped file does not, with the file's byte."""
    traps: dict[int, bytes] = {}
    for mapping in code_mappings(pid):
        try:
            file_fd = os.open(
                f"/proc/{pid}/map_files/{mapping.start:x}-{mapping.end:x}",
                os.O_RDONLY | os.O_CLOEXEC,
            )
        except OSError:
            continue
        try:
            for chunk_start in range(mapping.start, mapping.end, CHUNK):
                length = min(CHUNK, mapping.end - chunk_start)
                original = os.pread(file_fd, length, mapping.offset + chunk_start - mapping.start)
                try:
                    current = os.pread(memory_fd, len(original), chunk_start)
                except OSError:
                    continue
                if current == original:
                    continue  # the usual case, one comparison instead of a scan
                position = current.find(TRAP)
                while position >= 0:
                    if position < len(original) and original[position] != TRAP:
                        traps[chunk_start + position] = original[position : position + 1]
                    position = current.find(TRAP, position + 1)
        finally:
            os.close(file_fd)
    return traps


def restore_code(pid: int, memory_fd: int) -> set[int]:
    """Put back the file's byte wherever memory holds a trap the file does not."""
    traps = find_traps(pid, memory_fd)
    for address, original in traps.items():
        os.pwrite(memory_fd, original, address)
    return set(traps)


def traps_in(pid: int) -> dict[int, bytes]:
    """The traps left in `pid`'s code, read without stopping it; {} if it is gone."""
    try:
        memory_fd = os.open(f"/proc/{pid}/mem", os.O_RDONLY | os.O_CLOEXEC)
    except OSError:
        return {}
    try:
        return find_traps(pid, memory_fd)
    except OSError:
        return {}
    finally:
        os.close(memory_fd)


def alive(pid: int) -> bool:
    """Exists and is not a zombie."""
    try:
        with open(f"/proc/{pid}/stat") as stat:
            return stat.read().rpartition(")")[2].split()[0] != "Z"
    except OSError:
        return False


def status_fields(pid: int | str) -> dict[str, str]:
    """/proc/PID/status (or /proc/PID/task/TID/status with "PID/task/TID") as a dict."""
    with open(f"/proc/{pid}/status") as status:
        return dict(line.rstrip("\n").split(":\t", 1) for line in status if ":\t" in line)


def tracer_of(pid: int) -> int | None:
    """The tracer's PID (0: none); None if the process is gone."""
    try:
        return int(status_fields(pid).get("TracerPid", "0"))
    except (OSError, ValueError):
        return None


def thread_ids(pid: int) -> list[int]:
    try:
        return [int(task) for task in os.listdir(f"/proc/{pid}/task")]
    except OSError:
        return []


def seize_all(ptrace: Ptrace, pid: int) -> list[int]:
    """Seize and stop every thread; threads that appear meanwhile are seized too."""
    seized: list[int] = []
    while True:
        new = [tid for tid in thread_ids(pid) if tid not in seized]
        if not new:
            return seized
        for tid in new:
            try:
                ptrace(PTRACE_SEIZE, tid)
                ptrace(PTRACE_INTERRUPT, tid)
                os.waitpid(tid, WALL)
                seized.append(tid)
            except OSError as error:  # ChildProcessError is one
                if error.errno != errno.ESRCH:
                    raise


def rewind_trapped_threads(ptrace: Ptrace, threads: list[int], traps: set[int]) -> None:
    """A thread that executed a trap has its PC one past it: run the real instruction."""
    for tid in threads:
        try:
            pc, registers = ptrace.program_counter(tid)
            if pc - 1 in traps:
                ptrace.set_program_counter(tid, registers, pc - 1)
        except OSError:
            continue


def clear_watchpoints(ptrace: Ptrace, threads: list[int]) -> int:
    """Disable the hardware watchpoints (debug register 7) a tracer left enabled: gdb
    removes them when the program stops and before it detaches; killed in between, it
    leaves them to gdbserver, whose detach does not, and the next write to the watched
    address is a SIGTRAP for an untraced program. How many threads had any."""
    cleared = 0
    for tid in threads:
        try:
            if ptrace(PTRACE_PEEKUSER, tid, DR7_OFFSET):
                ptrace(PTRACE_POKEUSER, tid, DR7_OFFSET, 0)
                cleared += 1
        except OSError:
            continue
    return cleared


def rescue(pid: int) -> dict[str, object]:
    """Stop the program, remove leftover traps and watchpoints, let it run on. Returns
    a summary."""
    ptrace = Ptrace()
    if not send_signal(pid, SIGSTOP):
        return {"restored": 0, "threads": 0, "error": None, "gone": True}
    threads: list[int] = []
    try:
        threads = seize_all(ptrace, pid)
        memory_fd = os.open(f"/proc/{pid}/mem", os.O_RDWR | os.O_CLOEXEC)
        try:
            traps = restore_code(pid, memory_fd)
        finally:
            os.close(memory_fd)
        rewind_trapped_threads(ptrace, threads, traps)
        watchpoints = clear_watchpoints(ptrace, threads)
        return {
            "restored": len(traps),
            "threads": len(threads),
            "error": None,
            "watchpoints_cleared": watchpoints,
        }
    except OSError as error:
        return {"restored": 0, "threads": len(threads), "error": str(error)}
    finally:
        for tid in threads:
            try:  # noqa: SIM105  (see close_quietly)
                ptrace(PTRACE_DETACH, tid)
            except OSError:
                pass
        send_signal(pid, SIGCONT)


def stop_pending(pid: int) -> bool:
    """A SIGSTOP queued for the process or one of its threads (gdbserver's detach can
    leave one: the program stops a moment after it is free)."""
    mask = 1 << (SIGSTOP - 1)
    try:
        for task in os.listdir(f"/proc/{pid}/task"):
            fields = status_fields(f"{pid}/task/{task}")
            if (int(fields.get("SigPnd", "0"), 16) | int(fields.get("ShdPnd", "0"), 16)) & mask:
                return True
    except (OSError, ValueError):
        return False
    return False


NOTHING_DONE: dict[str, object] = {"restored": 0, "threads": 0, "error": None}


def settle(pid: int) -> dict[str, object]:
    """After the tracer is gone: rescue only what needs it (see the module docstring)."""
    try:
        status = status_fields(pid)
    except OSError:
        return {"restored": 0, "threads": 0, "error": None, "gone": True}
    if status.get("State", "").startswith("Z"):
        return {"restored": 0, "threads": 0, "error": None, "gone": True}
    tracer = int(status.get("TracerPid", "0"))
    if tracer:
        return {"restored": 0, "threads": 0, "error": f"still traced by PID {tracer}"}
    if traps_in(pid):
        return rescue(pid)
    if status.get("State", "").startswith("T") or stop_pending(pid):
        send_signal(pid, SIGCONT)  # a stop its tracer left behind (or queued)
        return {"restored": 0, "threads": 0, "error": None, "continued": True}
    return dict(NOTHING_DONE)


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
            if not chunk:
                return None
            self.buffer += chunk
        return data


def reads_pipe(pid: str, number: str, name: str) -> bool:
    if os.readlink(f"/proc/{pid}/fd/{number}") != name:
        return False
    with open(f"/proc/{pid}/fdinfo/{number}") as info:
        for line in info:
            if line.startswith("flags:"):
                return int(line.split()[1], 8) & os.O_ACCMODE != os.O_WRONLY
    return False


def end_other_readers(fd: int, keep: set[int]) -> None:
    """SIGKILL every other process that reads the pipe `fd` reads (gdb's bridge, orphaned
    by gdb's death: it would take gdbserver's answers meant for us). Writers are left
    alone: gdbserver's own session helper holds its stdout too."""
    name = f"pipe:[{os.fstat(fd).st_ino}]"
    for entry in os.listdir("/proc"):
        if not entry.isdigit() or int(entry) in keep:
            continue
        try:
            numbers = os.listdir(f"/proc/{entry}/fd")
            held = any(reads_pipe(entry, number, name) for number in numbers)
        except OSError:
            continue
        if held:
            pidfd = open_pidfd(int(entry))
            send_signal(int(entry), SIGKILL)
            if pidfd is not None:
                wait_exit(pidfd, 2.0)
                os.close(pidfd)


def detach_through_gdbserver(server: ServerLink, host_pid: int) -> dict[str, object]:
    """Take over gdb's connection: interrupt, remove the traps, detach. Nothing to do
    when gdb died before gdbserver attached (the guard is armed before the attach)."""
    if not alive(host_pid):
        return {}
    end_other_readers(server.from_server, {os.getpid(), server.pid})
    reader = PacketReader(server.from_server)
    deadline = time.monotonic() + TAKEOVER_TIMEOUT
    stopped = False
    try:
        # Not gdbserver's interrupt (^C): it signals the target's process group, for a
        # container's PID 1 that is kill(-1). SIGSTOP stops a running program under
        # gdbserver; if it stopped already, the signal waits and the program stops
        # after the detach: `settle` continues it either way. A program gdbserver does
        # not trace (yet: an attach in flight leaves it stopped) gets no signal.
        stopped = tracer_of(host_pid) == server.pid
        if stopped:
            os.kill(host_pid, SIGSTOP)
        # `#00` ends a packet gdb may have left half written; then a marker question
        os.write(server.to_server, b"#00" + packet(b"qAttached:%x" % server.target_pid))
        while (reply := reader.next(min(deadline, time.monotonic() + RESTOP_INTERVAL))) not in (
            b"1",
            b"0",
        ):
            traced = tracer_of(host_pid) == server.pid
            if reply is None and time.monotonic() < deadline:
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
        for address in sorted(traps_in(host_pid)):
            os.write(server.to_server, packet(b"z0,%x,1" % address))
            if reader.next(deadline) == b"OK":
                removed += 1
        os.write(server.to_server, packet(b"D;%x" % server.target_pid))
        detached = reader.next(deadline)
    except ProcessLookupError:
        return {"takeover_error": "the program is gone"}
    except OSError as error:
        return {"takeover_error": str(error), "stopped_by_guard": stopped}
    return {
        "removed_by_gdbserver": removed,
        "detached_by_guard": detached == b"OK",
        "stopped_by_guard": stopped,
    }


def wait_exit(pidfd: int | None, timeout: float) -> bool:
    if pidfd is None:
        return True
    readable, _, _ = select.select([pidfd], [], [], timeout)
    return bool(readable)


def open_pidfd(pid: int) -> int | None:
    try:
        return os.pidfd_open(pid)
    except ProcessLookupError:
        return None


def guard(gdb_pid: int, target_pid: int, server: ServerLink | None) -> dict[str, object] | None:
    """Wait for gdb's end (or gdbserver's); make the target safe unless released first.
    A `release` already waiting on stdin wins over gdb's end (gdb exits right after a
    clean detach)."""
    gdb_fd = open_pidfd(gdb_pid)
    tracer_fd = open_pidfd(server.pid) if server is not None else gdb_fd
    report("ready")
    watching_stdin = True
    while True:
        watched = [fd for fd in {gdb_fd, tracer_fd} if fd is not None]
        watched += [sys.stdin] if watching_stdin else []
        timeout = 0 if gdb_fd is None or tracer_fd is None else None
        readable, _, _ = select.select(watched, [], [], timeout)
        if sys.stdin in readable:
            line = sys.stdin.readline()
            if line.strip() == "release":
                if server is not None:
                    server.close()
                return None
            if line.strip() == "detached":  # the tracer detached: check, touch if needed
                if server is not None:
                    server.close()
                return settle(target_pid)
            if line.strip() == "freeze" and server is None:
                send_signal(target_pid, SIGSTOP)
            if line.strip() == "freeze":
                report("frozen")
            if not line:
                # our front end is gone without a word: gdb (in a state no one knows) is
                # ended, and the program made safe as after gdb's death
                watching_stdin = False
                if server is None:
                    send_signal(target_pid, SIGSTOP)  # no trap reached while gdb dies
                send_signal(gdb_pid, SIGKILL)
            continue
        if server is None:
            if gdb_fd is None or gdb_fd in readable:
                return rescue(target_pid)
            continue
        takeover: dict[str, object] = {}
        if tracer_fd is not None and tracer_fd not in readable:
            # gdb is gone, gdbserver still holds the program: detach it cleanly
            takeover = detach_through_gdbserver(server, target_pid)
        server.close()  # gdbserver sees its connection end and exits
        if not wait_exit(tracer_fd, TAKEOVER_TIMEOUT):
            send_signal(server.pid, SIGKILL)  # stuck: the rescue below follows
            wait_exit(tracer_fd, TAKEOVER_TIMEOUT)
        if takeover.get("detached_by_guard") and alive(target_pid):
            # gdb died between commands: watchpoints it had inserted are still enabled
            # in the debug registers (only ptrace reaches them), a stop we asked for
            # may still be on its way: the rescue clears them, and ends with SIGCONT
            outcome = {**rescue(target_pid), "continued": True}
        else:
            outcome = settle(target_pid)
            if takeover.get("stopped_by_guard") and outcome == NOTHING_DONE:
                # a takeover that failed after our SIGSTOP: settle saw the program
                # running with nothing pending, but that stop may still be under way (a
                # group stop not yet at every thread shows in no /proc field)
                send_signal(target_pid, SIGCONT)
                outcome["continued"] = True
        return {**outcome, **takeover}


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


def main(argv: list[str] | None = None) -> None:
    """Entry point; `argv` defaults to the command line (after `-c CODE` or the module)."""
    arguments = sys.argv[1:] if argv is None else argv
    gdb_pid, target_pid = int(arguments[0]), int(arguments[1])
    server = None
    if len(arguments) == 7 and arguments[2] == "--gdbserver":
        pid, target_in_namespace, to_server, from_server = (int(v) for v in arguments[3:7])
        server = ServerLink(pid, target_in_namespace, to_server, from_server)
    _signal.signal(_signal.SIGHUP, _signal.SIG_IGN)
    outcome = guard(gdb_pid, target_pid, server)
    if outcome is not None:
        report(outcome_line(outcome))
    # The session waits for our exit after a detach: skip the interpreter's teardown
    # (nothing to flush or release that the kernel does not), a few ms.
    os._exit(0)


if __name__ == "__main__":
    main()
