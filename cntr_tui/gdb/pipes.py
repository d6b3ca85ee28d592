"""The pipes gdb and gdbserver are started with, and a started gdbserver's record.

No asyncio here: `cntr-tui gdb` starts both before it imports its engine.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator
from dataclasses import dataclass
from typing import NamedTuple


class ChildPipes(NamedTuple):
    """The child's ends (`stdin`, `stdout`) and ours (`to_child`, `from_child`)."""

    stdin: int
    stdout: int
    to_child: int
    from_child: int


@contextlib.contextmanager
def child_pipes() -> Iterator[ChildPipes]:
    """Fresh O_CLOEXEC pipes for starting gdb or gdbserver inside the block: the child's
    ends are closed on leaving it; ours stay open for the caller unless the block raised."""
    stdin_read, stdin_write = os.pipe2(os.O_CLOEXEC)
    stdout_read, stdout_write = os.pipe2(os.O_CLOEXEC)
    try:
        yield ChildPipes(stdin_read, stdout_write, stdin_write, stdout_read)
    except BaseException:
        os.close(stdin_write)
        os.close(stdout_read)
        raise
    finally:
        os.close(stdin_read)
        os.close(stdout_write)


@dataclass
class GdbserverProcess:
    """A started gdbserver (extended mode, on its stdin/stdout, not attached yet).

    `pid` is its PID as gdb's PID namespace sees it (for the bridge through /proc),
    `host_pid` ours. `to_server` and `from_server` are our ends of its stdin and stdout:
    while someone holds them gdbserver never sees its connection end, so the holder
    (the trap guard) can still detach it cleanly after gdb died.

    `console_input` (ours, read end) is the console's third pipe, open in gdbserver as
    its descriptor `console_input_fd`: see debug/interrupt_relay.py.

    `hold` (ours) is a copy of our end of the channel to gdbserver's attach helper:
    that helper ends gdbserver as soon as every copy is closed (we died, say). The
    trap guard takes one, so that gdbserver outlives us until the guard has detached
    it: killed with a thread just past a breakpoint's trap, gdbserver would take that
    thread's rewound PC (kept in its register cache) with it, and the kernel would let
    the thread go one byte into an instruction (SIGSEGV).
    """

    pid: int
    host_pid: int
    to_server: int
    from_server: int
    console_input: int | None = None
    console_input_fd: int | None = None
    hold: int | None = None

    def close_ends(self) -> None:
        for fd in (self.to_server, self.from_server, self.console_input, self.hold):
            if fd is not None:
                with contextlib.suppress(OSError):
                    os.close(fd)
