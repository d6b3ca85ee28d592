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
connection, continue the program. It is stopped under gdbserver all along: no thread
can meet a trap untraced.

After the tracer is gone the guard checks the program, and touches it only if needed:
a trap left in file-backed code (memory reads 0xCC where the mapped file does not,
read through /proc/PID/map_files) -> stop it (SIGSTOP), seize its threads, put the
bytes back, move back the PC of a thread that executed one, detach and continue; a
program left stopped with no tracer -> SIGCONT; otherwise nothing (no signal at all).
With gdb as the tracer (`native`), gdb's death leaves only this rescue, which a
thread executing a trap in the instant before the SIGSTOP does not survive. Likewise
when gdbserver itself is killed. x86-64 only.

    python -m cntr_tui.gdb.guard GDB_PID TARGET_PID                     # native
    python -m cntr_tui.gdb.guard GDB_PID TARGET_PID --gdbserver SERVER_PID \
        TARGET_PID_IN_ITS_NAMESPACE TO_SERVER_FD FROM_SERVER_FD          # host PIDs

stdin: a line `release` ends the guard without touching anything; `detached` (a clean
detach) ends it after the check above; a line `freeze` stops the program now (SIGSTOP,
native only), before the session kills a gdb it no longer trusts; the rescue that
follows always continues the program.
stdout: `ready` once armed; at the end one JSON line {"restored": N, "threads": M,
"error": ..., "detached_by_guard": bool, "continued": bool} ({"gone": true} if the
program is gone).
"""

from __future__ import annotations

import asyncio
import contextlib
import ctypes
import ctypes.util
import errno
import json
import os
import select
import signal
import sys
import time
from dataclasses import dataclass

PTRACE_GETREGS = 12
PTRACE_SETREGS = 13
PTRACE_DETACH = 17
PTRACE_SEIZE = 0x4206
PTRACE_INTERRUPT = 0x4207
WALL = 0x40000000
RIP_INDEX = 16  # in struct user_regs_struct (x86-64)
TRAP = 0xCC
CHUNK = 1 << 20
TAKEOVER_TIMEOUT = 10.0
RESTOP_INTERVAL = 0.3

libc = ctypes.CDLL(ctypes.util.find_library("c"), use_errno=True)
libc.ptrace.argtypes = [ctypes.c_long, ctypes.c_long, ctypes.c_void_p, ctypes.c_void_p]
libc.ptrace.restype = ctypes.c_long


class Registers(ctypes.Structure):
    _fields_ = [("values", ctypes.c_ulonglong * 27)]


def ptrace(request: int, tid: int, address: int = 0, data: int | ctypes.c_void_p = 0) -> int:
    result = libc.ptrace(request, tid, ctypes.c_void_p(address), data)
    if result == -1:
        error = ctypes.get_errno()
        raise OSError(error, f"ptrace({request:#x}, {tid}): {os.strerror(error)}")
    return result


@dataclass(frozen=True)
class Mapping:
    start: int
    end: int
    offset: int


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


def thread_ids(pid: int) -> list[int]:
    try:
        return [int(task) for task in os.listdir(f"/proc/{pid}/task")]
    except OSError:
        return []


def seize_all(pid: int) -> list[int]:
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
            except (OSError, ChildProcessError) as error:
                if getattr(error, "errno", None) != errno.ESRCH:
                    raise


def rewind_trapped_threads(threads: list[int], traps: set[int]) -> None:
    """A thread that executed a trap has its PC one past it: run the real instruction."""
    for tid in threads:
        registers = Registers()
        with contextlib.suppress(OSError):
            ptrace(PTRACE_GETREGS, tid, 0, ctypes.addressof(registers))
            if registers.values[RIP_INDEX] - 1 in traps:
                registers.values[RIP_INDEX] -= 1
                ptrace(PTRACE_SETREGS, tid, 0, ctypes.addressof(registers))


def rescue(pid: int) -> dict[str, object]:
    """Stop the program, remove leftover traps, let it run on. Returns a summary."""
    try:
        os.kill(pid, signal.SIGSTOP)
    except ProcessLookupError:
        return {"restored": 0, "threads": 0, "error": None, "gone": True}
    threads: list[int] = []
    try:
        threads = seize_all(pid)
        memory_fd = os.open(f"/proc/{pid}/mem", os.O_RDWR | os.O_CLOEXEC)
        try:
            traps = restore_code(pid, memory_fd)
        finally:
            os.close(memory_fd)
        rewind_trapped_threads(threads, traps)
        return {"restored": len(traps), "threads": len(threads), "error": None}
    except OSError as error:
        return {"restored": 0, "threads": len(threads), "error": str(error)}
    finally:
        for tid in threads:
            with contextlib.suppress(OSError):
                ptrace(PTRACE_DETACH, tid)
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGCONT)


def stop_pending(pid: int) -> bool:
    """A SIGSTOP queued for the process or one of its threads (gdbserver's detach can
    leave one: the program stops a moment after it is free)."""
    mask = 1 << (signal.SIGSTOP - 1)
    try:
        for task in os.listdir(f"/proc/{pid}/task"):
            fields = status_fields(f"{pid}/task/{task}")
            if (int(fields.get("SigPnd", "0"), 16) | int(fields.get("ShdPnd", "0"), 16)) & mask:
                return True
    except (OSError, ValueError):
        return False
    return False


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
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGCONT)  # a stop its tracer left behind (or queued)
        return {"restored": 0, "threads": 0, "error": None, "continued": True}
    return {"restored": 0, "threads": 0, "error": None}


@dataclass
class ServerLink:
    """The guard's hold on gdbserver: its PID (ours), the target's PID as gdbserver sees
    it, and our ends of its stdin and stdout."""

    pid: int
    target_pid: int
    to_server: int
    from_server: int

    def close(self) -> None:
        for fd in (self.to_server, self.from_server):
            with contextlib.suppress(OSError):
                os.close(fd)


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
            with contextlib.suppress(ProcessLookupError):
                os.kill(int(entry), signal.SIGKILL)
            if pidfd is not None:
                wait_exit(pidfd, 2.0)
                os.close(pidfd)


def detach_through_gdbserver(server: ServerLink, host_pid: int) -> dict[str, object]:
    """Take over gdb's connection: interrupt, remove the traps, detach."""
    if not alive(host_pid):
        return {}
    end_other_readers(server.from_server, {os.getpid(), server.pid})
    reader = PacketReader(server.from_server)
    deadline = time.monotonic() + TAKEOVER_TIMEOUT
    try:
        # Not gdbserver's interrupt (^C): it signals the target's process group, for a
        # container's PID 1 that is kill(-1). SIGSTOP stops a running program under
        # gdbserver; if it stopped already, the signal waits and the program stops
        # after the detach: `settle` continues it either way.
        os.kill(host_pid, signal.SIGSTOP)
        # `#00` ends a packet gdb may have left half written; then a marker question
        os.write(server.to_server, b"#00" + packet(b"qAttached:%x" % server.target_pid))
        while (reply := reader.next(min(deadline, time.monotonic() + RESTOP_INTERVAL))) not in (
            b"1",
            b"0",
        ):
            if reply is None and time.monotonic() < deadline:
                # gdbserver took it for one of the stops it asks for itself (it stops
                # every thread to step one over a breakpoint): stop again
                os.kill(host_pid, signal.SIGSTOP)
            elif reply is None or (reply.startswith(b"E") and not alive(host_pid)):
                return {"takeover_error": "gdbserver did not answer"}
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
        return {"takeover_error": str(error)}
    return {"removed_by_gdbserver": removed, "detached_by_guard": detached == b"OK"}


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
    print("ready", flush=True)
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
                with contextlib.suppress(ProcessLookupError):
                    os.kill(target_pid, signal.SIGSTOP)
            if line.strip() == "freeze":
                print("frozen", flush=True)
            if not line:
                watching_stdin = False  # our session is gone; gdb may still die later
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
            with contextlib.suppress(ProcessLookupError):
                os.kill(server.pid, signal.SIGKILL)  # stuck: the rescue below follows
            wait_exit(tracer_fd, TAKEOVER_TIMEOUT)
        return {**settle(target_pid), **takeover}


class TrapGuard:
    """The session's handle on a guard process (asyncio). One task reads its output."""

    def __init__(self, process: asyncio.subprocess.Process):
        self._process = process
        self.outcome: dict[str, object] | None = None
        self._frozen = asyncio.Event()
        self._reader = asyncio.ensure_future(self._read())

    @classmethod
    async def start(
        cls,
        gdb_pid: int,
        target_pid: int,
        gdbserver: tuple[int, int, int, int] | None = None,
    ) -> TrapGuard:
        """Start a guard for gdb `gdb_pid` debugging `target_pid` (host PIDs). With
        `gdbserver` = (its host PID, the target's PID in its namespace, our end of its
        stdin, our end of its stdout), the guard holds those ends (the caller closes
        its copies) and detaches gdbserver itself if gdb dies."""
        arguments = [str(gdb_pid), str(target_pid)]
        pass_fds: tuple[int, ...] = ()
        if gdbserver is not None:
            arguments += ["--gdbserver", *(str(value) for value in gdbserver)]
            pass_fds = gdbserver[2:]
        process = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "cntr_tui.gdb.guard",
            *arguments,
            stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE,
            pass_fds=pass_fds,
            start_new_session=True,  # outlives a crash of ours: it must, to be of use
        )
        # Not waiting for its "ready": if gdb ends before the guard watches it, the
        # guard finds it gone at start and rescues at once.
        return cls(process)

    async def _read(self) -> None:
        assert self._process.stdout is not None
        while line := await self._process.stdout.readline():
            if line.strip() == b"frozen":
                self._frozen.set()
            elif line.strip() != b"ready":
                with contextlib.suppress(ValueError):
                    self.outcome = json.loads(line)
        await self._process.wait()

    async def _send(self, command: bytes) -> bool:
        if self._process.returncode is not None or self._process.stdin is None:
            return False
        try:
            self._process.stdin.write(command)
            await self._process.stdin.drain()
        except ConnectionError:
            return False
        return True

    async def freeze(self) -> bool:
        """Stop the program now (the rescue continues it). False if the guard is done."""
        if not await self._send(b"freeze\n"):
            return False
        frozen = asyncio.ensure_future(self._frozen.wait())
        await asyncio.wait([frozen, self._reader], timeout=5, return_when=asyncio.FIRST_COMPLETED)
        frozen.cancel()
        return self._frozen.is_set()

    async def release(self) -> None:
        """Nothing to guard any more (the program is gone): end without a look."""
        await self._send(b"release\n")
        await self.finished()

    async def detached(self) -> dict[str, object] | None:
        """The tracer detached: the guard checks the program (a stop left queued is
        continued) and ends. Its outcome."""
        await self._send(b"detached\n")
        return await self.finished()

    async def finished(self, timeout: float = 15.0) -> dict[str, object] | None:
        """Wait for the guard to end; its rescue summary, if it had to rescue."""
        with contextlib.suppress(asyncio.TimeoutError):
            await asyncio.wait_for(asyncio.shield(self._reader), timeout)
        if self._process.returncode is None:
            with contextlib.suppress(ProcessLookupError):
                self._process.kill()
        return self.outcome


def main(argv: list[str]) -> int:
    gdb_pid, target_pid = int(argv[0]), int(argv[1])
    server = None
    if len(argv) == 7 and argv[2] == "--gdbserver":
        server = ServerLink(*(int(value) for value in argv[3:7]))
    outcome = guard(gdb_pid, target_pid, server)
    if outcome is not None:
        print(json.dumps(outcome), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
