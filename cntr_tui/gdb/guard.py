"""The trap guard: the debugged program never pays for gdb's death.

gdb plants `int3` (0xCC) bytes in the program's code for breakpoints (its own internal
ones too) and removes them only when it stops the program or detaches. If gdb dies
while the program runs (killed, a SIGBUS because the merged root's file server went
away, the container's PID namespace torn down), the kernel detaches the program with
the traps still in place, and the next thread to reach one dies of SIGTRAP.

The guard is a small host process started next to gdb. It waits on gdb's pidfd; when
gdb is gone without a clean detach, it at once stops the program (SIGSTOP), seizes its
threads with ptrace, puts back every byte of file-backed code that reads 0xCC in
memory but not in the mapped file (read through /proc/PID/map_files, so the file is
the very one mapped, container files included), moves back the PC of a thread that
already executed a trap, detaches and continues the program. x86-64 only.

    python -m cntr_tui.gdb.guard GDB_HOST_PID TARGET_HOST_PID

stdin: a line `release` ends the guard without touching anything (clean detach); a
line `freeze` stops the program now (SIGSTOP), before the session kills a gdb it no
longer trusts; the rescue that follows always continues the program.
stdout: `ready` once armed; at the end one JSON line {"restored": N, "threads": M,
"error": ...}.

What remains: a thread that executes a trap in the instant between gdb's death and
the SIGSTOP (well under a millisecond) still receives SIGTRAP.
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


def restore_code(pid: int, memory_fd: int) -> set[int]:
    """Put back the file's byte wherever memory holds a trap the file does not."""
    restored: set[int] = set()
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
                        os.pwrite(
                            memory_fd, original[position : position + 1], chunk_start + position
                        )
                        restored.add(chunk_start + position)
                    position = current.find(TRAP, position + 1)
        finally:
            os.close(file_fd)
    return restored


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


def guard(gdb_pid: int, target_pid: int) -> dict[str, object] | None:
    """Wait for gdb's end; rescue the target unless released first. A `release` already
    waiting on stdin wins over gdb's end (gdb exits right after a clean detach)."""
    try:
        gdb_fd = os.pidfd_open(gdb_pid)
    except ProcessLookupError:
        gdb_fd = None  # gone before we watched it: rescue unless released
    print("ready", flush=True)
    watching_stdin = True
    while True:
        watched = ([gdb_fd] if gdb_fd is not None else []) + ([sys.stdin] if watching_stdin else [])
        timeout = 0 if gdb_fd is None else None
        readable, _, _ = select.select(watched, [], [], timeout)
        if sys.stdin in readable:
            line = sys.stdin.readline()
            if line.strip() == "release":
                return None
            if line.strip() == "freeze":
                with contextlib.suppress(ProcessLookupError):
                    os.kill(target_pid, signal.SIGSTOP)
                print("frozen", flush=True)
            if not line:
                watching_stdin = False  # our session is gone; gdb may still die later
            continue
        if gdb_fd is None or gdb_fd in readable:
            return rescue(target_pid)


class TrapGuard:
    """The session's handle on a guard process (asyncio). One task reads its output."""

    def __init__(self, process: asyncio.subprocess.Process):
        self._process = process
        self.outcome: dict[str, object] | None = None
        self._frozen = asyncio.Event()
        self._reader = asyncio.ensure_future(self._read())

    @classmethod
    async def start(cls, gdb_pid: int, target_pid: int) -> TrapGuard:
        """Start a guard for gdb `gdb_pid` tracing `target_pid` (host PIDs)."""
        process = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "cntr_tui.gdb.guard",
            str(gdb_pid),
            str(target_pid),
            stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE,
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
        """gdb detached cleanly: nothing to rescue."""
        await self._send(b"release\n")
        await self.finished()

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
    outcome = guard(gdb_pid, target_pid)
    if outcome is not None:
        print(json.dumps(outcome), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
