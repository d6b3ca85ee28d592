"""What the trap guard process does to a program its tracer left: find the traps left in
its code, put the bytes back, rewind threads that executed one, disable hardware
watchpoints (debug register 7), continue a stop left behind. x86-64 only.

Runs inside the guard process (guard_process.py, `python -I -S`, the host's
namespaces); imported also by tests that look for traps left behind. It must stay as
cheap as the guard: the standard library's os and errno and the Linux layer's cheap
modules only (no signal, json, contextlib, dataclasses, enum); ctypes is loaded only
for a rescue.
"""

from __future__ import annotations

import errno
import os

from cntr_tui.linux.memory import code_mappings, open_mapped_file, open_memory
from cntr_tui.linux.proc_status import is_zombie, state_of, status_fields, stop_pending
from cntr_tui.linux.procfs import thread_ids

# x86-64 Linux numbers: the signal module would import enum, a tenth of the guard's start.
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

NOTHING_DONE: dict[str, object] = {"restored": 0, "threads": 0, "error": None}


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


def find_traps(pid: int, memory_fd: int) -> dict[int, bytes]:
    """Addresses where memory holds a trap the mapped file does not, with the file's byte."""
    traps: dict[int, bytes] = {}
    for mapping in code_mappings(pid):
        try:
            file_fd = open_mapped_file(pid, mapping)
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
        memory_fd = open_memory(pid)
    except OSError:
        return {}
    try:
        return find_traps(pid, memory_fd)
    except OSError:
        return {}
    finally:
        os.close(memory_fd)


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
        memory_fd = open_memory(pid, writable=True)
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
            try:  # noqa: SIM105  contextlib.suppress: its import costs a tenth of our start
                ptrace(PTRACE_DETACH, tid)
            except OSError:
                pass
        send_signal(pid, SIGCONT)


def settle(pid: int) -> dict[str, object]:
    """After the tracer is gone: rescue only what needs it. A trap left in file-backed
    code -> `rescue`; a program left stopped with no tracer (or a SIGSTOP queued for
    it: gdbserver's detach can leave one) -> SIGCONT; otherwise nothing (no signal)."""
    try:
        status = status_fields(pid)
    except OSError:
        return {"restored": 0, "threads": 0, "error": None, "gone": True}
    if is_zombie(status):
        return {"restored": 0, "threads": 0, "error": None, "gone": True}
    tracer = int(status.get("TracerPid", "0"))
    if tracer:
        return {"restored": 0, "threads": 0, "error": f"still traced by PID {tracer}"}
    if traps_in(pid):
        return rescue(pid)
    if state_of(status) == "T" or stop_pending(pid):
        send_signal(pid, SIGCONT)  # a stop its tracer left behind (or queued)
        return {"restored": 0, "threads": 0, "error": None, "continued": True}
    return dict(NOTHING_DONE)
