"""ptrace(2) as a tracer that only looks (seize, interrupt, read registers, detach) and
process_vm_readv(2), through libc with ctypes. x86-64 numbers.

Cheap: imports os and ctypes only (the stack stop process, `python -I -S`, loads it
before the stop). Every call raises OSError with the errno on failure.

A seized thread is detached by the kernel when its tracer exits, however it exits
(SIGKILL included), and PTRACE_INTERRUPT queues no signal: a tracer that dies leaves
the program running, untraced, with nothing pending.
"""

from __future__ import annotations

import ctypes
import os

from cntr_tui.linux.iovec import Iovec

PTRACE_DETACH = 17
PTRACE_GETREGSET = 0x4204
PTRACE_SEIZE = 0x4206
PTRACE_INTERRUPT = 0x4207
PTRACE_EVENT_STOP = 128
NT_PRSTATUS = 1
NT_PRFPREG = 2
WALL = 0x40000000  # __WALL: wait for threads (clone children) too
USER_REGS_SIZE = 27 * 8  # struct user_regs_struct (x86-64)
USER_FPREGS_SIZE = 512  # struct user_fpregs_struct (fxsave area)
RIP_INDEX, RSP_INDEX = 16, 19  # in user_regs_struct


_libc = ctypes.CDLL("libc.so.6", use_errno=True)
_libc.ptrace.argtypes = (ctypes.c_long, ctypes.c_long, ctypes.c_void_p, ctypes.c_void_p)
_libc.ptrace.restype = ctypes.c_long
_libc.process_vm_readv.argtypes = (
    ctypes.c_int,
    ctypes.POINTER(Iovec),
    ctypes.c_ulong,
    ctypes.POINTER(Iovec),
    ctypes.c_ulong,
    ctypes.c_ulong,
)
_libc.process_vm_readv.restype = ctypes.c_ssize_t


def _failed(what: str) -> OSError:
    number = ctypes.get_errno()
    return OSError(number, f"{what}: {os.strerror(number)}")


def ptrace(request: int, tid: int, address: int = 0, data: int = 0) -> int:
    result = _libc.ptrace(request, tid, address or None, data or None)
    if result == -1:
        raise _failed(f"ptrace({request:#x}, {tid})")
    return int(result)


def seize(tid: int) -> None:
    """Trace `tid` without stopping it (no options: its clones are not traced)."""
    ptrace(PTRACE_SEIZE, tid)


def interrupt(tid: int) -> None:
    """Stop a seized thread (a PTRACE_EVENT_STOP; no signal is queued)."""
    ptrace(PTRACE_INTERRUPT, tid)


def detach(tid: int, signal: int = 0) -> None:
    """Let a stopped thread go; `signal`: the one it was stopped for, delivered now."""
    ptrace(PTRACE_DETACH, tid, 0, signal)


def wait_stop() -> tuple[int, int]:
    """The next traced thread's wait status: (tid, status). Raises ChildProcessError
    when nothing is traced any more."""
    return os.waitpid(-1, WALL)


def stop_signal(status: int) -> int:
    """The signal a thread's stop is to deliver when let go: 0 for our interrupt's stop
    (and a group-stop's), the signal of a signal-delivery stop (which it would lose)."""
    if not os.WIFSTOPPED(status) or status >> 16 == PTRACE_EVENT_STOP:
        return 0
    return os.WSTOPSIG(status)


class RegisterBuffers:
    """Reusable buffers for PTRACE_GETREGSET (one call per register set)."""

    def __init__(self) -> None:
        self._general = ctypes.create_string_buffer(USER_REGS_SIZE)
        self._float = ctypes.create_string_buffer(USER_FPREGS_SIZE)
        self._vectors = (Iovec * 2)()
        self._vectors[0].base = ctypes.addressof(self._general)
        self._vectors[1].base = ctypes.addressof(self._float)
        self._general_at = ctypes.addressof(self._vectors[0])
        self._float_at = ctypes.addressof(self._vectors[1])

    def general(self, tid: int) -> bytes:
        """user_regs_struct of a stopped thread."""
        self._vectors[0].len = USER_REGS_SIZE
        ptrace(PTRACE_GETREGSET, tid, NT_PRSTATUS, self._general_at)
        return self._general.raw[: self._vectors[0].len]

    def floating(self, tid: int) -> bytes:
        """user_fpregs_struct (the fxsave area) of a stopped thread."""
        self._vectors[1].len = USER_FPREGS_SIZE
        ptrace(PTRACE_GETREGSET, tid, NT_PRFPREG, self._float_at)
        return self._float.raw[: self._vectors[1].len]


def register(registers: bytes, index: int) -> int:
    return int.from_bytes(registers[index * 8 : index * 8 + 8], "little")


def read_memory(pid: int, address: int, length: int) -> bytes:
    """`length` bytes of `pid`'s memory at `address` (fewer if the range ends in
    unmapped memory); one process_vm_readv."""
    buffer = ctypes.create_string_buffer(length)
    local = Iovec(ctypes.addressof(buffer), length)
    remote = Iovec(address, length)
    done = _libc.process_vm_readv(pid, ctypes.byref(local), 1, ctypes.byref(remote), 1, 0)
    if done < 0:
        raise _failed(f"process_vm_readv({pid}, {address:#x}, {length})")
    return buffer.raw[:done]
