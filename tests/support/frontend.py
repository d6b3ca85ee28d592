"""The debugged demo program as the front-end death tests see it, without ptrace: its
threads' states, pending signals and PCs from /proc, each worker's counter
(`workers[i].iterations`, read through /proc/PID/mem at the ELF symbol's address),
the traps left in its code (guard.traps_in), the processes a front end started, and
what tells how it detached (gdb's MI trace, the console's closing note).
"""

from __future__ import annotations

import contextlib
import os
import re
import subprocess
import time
from dataclasses import dataclass

import psutil

from cntr_tui.gdb.trap_rescue import traps_in
from cntr_tui.linux.proc_status import status_fields
from tests.support.proc import read_u64, running, tracer_of, wait_until

WORKERS = 3
WORKER_SIZE = 40  # struct worker: int id, char name[16], unsigned long iterations, double
ITERATIONS_OFFSET = 24
SIGTRAP_BIT = 1 << (5 - 1)
SIGHUP_BIT = 1 << (1 - 1)


def symbol_value(path: str, name: str) -> int:
    """The value of symbol `name` in the ELF file at `path` (binutils' nm)."""
    listing = subprocess.run(["nm", path], capture_output=True, text=True, check=True).stdout
    for line in listing.splitlines():
        fields = line.split()
        if len(fields) == 3 and fields[2] == name:
            return int(fields[0], 16)
    raise AssertionError(f"no symbol {name} in {path}")


def load_base(pid: int) -> int:
    """Where the main executable (PIE) is mapped: its mapping at file offset 0."""
    executable = os.readlink(f"/proc/{pid}/exe")
    with open(f"/proc/{pid}/maps") as maps:
        for line in maps:
            fields = line.split()
            if len(fields) >= 6 and fields[5] == executable and int(fields[2], 16) == 0:
                return int(fields[0].split("-")[0], 16)
    raise AssertionError(f"no mapping of {executable} in {pid}")


@dataclass(frozen=True)
class Program:
    """The demo program `threads` running as host PID `pid`."""

    pid: int
    counters: tuple[int, ...]  # address of each worker's iterations

    @classmethod
    def of(cls, pid: int) -> Program:
        workers = load_base(pid) + symbol_value(f"/proc/{pid}/exe", "workers")
        counters = tuple(
            workers + index * WORKER_SIZE + ITERATIONS_OFFSET for index in range(WORKERS)
        )
        return cls(pid, counters)

    def threads(self) -> list[int]:
        return sorted(int(task) for task in os.listdir(f"/proc/{self.pid}/task"))

    def thread_states(self) -> list[str]:
        return [
            status_fields(f"{self.pid}/task/{tid}")["State"].split()[0] for tid in self.threads()
        ]

    def program_counters(self) -> dict[int, int | None]:
        """Each thread's PC from /proc/TID/syscall (None while it runs on a CPU)."""
        found: dict[int, int | None] = {}
        for tid in self.threads():
            try:
                with open(f"/proc/{self.pid}/task/{tid}/syscall") as syscall:
                    fields = syscall.read().split()
            except OSError:
                continue
            found[tid] = int(fields[-1], 16) if len(fields) >= 3 else None
        return found

    def pending_trap(self) -> bool:
        """A SIGTRAP pending for the process (ShdPnd) or one of its threads (SigPnd)."""
        for tid in self.threads():
            fields = status_fields(f"{self.pid}/task/{tid}")
            if (int(fields["SigPnd"], 16) | int(fields["ShdPnd"], 16)) & SIGTRAP_BIT:
                return True
        return False

    def counter_values(self) -> list[int]:
        try:
            return [read_u64(self.pid, address) for address in self.counters]
        except FileNotFoundError:
            raise AssertionError(f"the program (PID {self.pid}) died") from None

    def all_stopped(self) -> bool:
        """Every thread in a traced stop ('t')."""
        return all(state == "t" for state in self.thread_states())

    def just_hit(self, addresses: set[int]) -> bool:
        """Every thread stopped, one of them with its PC one past one of `addresses`'
        traps (the breakpoint's stop has happened, whatever its tracer has read yet)."""
        return self.all_stopped() and bool(self.stopped_past(addresses))

    def stopped_past(self, addresses: set[int]) -> list[int]:
        """Threads stopped with their PC one past one of `addresses` (a breakpoint's trap
        just executed, not rewound in the thread's registers)."""
        return [tid for tid, pc in self.program_counters().items() if pc and pc - 1 in addresses]

    def released(self) -> str | None:
        """None once the program runs free; otherwise what still holds it."""
        if not running(self.pid):
            return "the program died"
        if tracer := tracer_of(self.pid):
            return f"traced by {tracer} ({command_of(tracer)})"
        states = self.thread_states()
        if any(state in ("T", "t") for state in states):
            return f"stopped: {states}"
        if traps_in(self.pid):
            return f"traps left at {sorted(hex(a) for a in traps_in(self.pid))}"
        if self.pending_trap():
            return "a SIGTRAP is pending"
        return None

    def assert_runs_on(self, breakpoints: set[int], since: float, within: float = 5.0) -> None:
        """Within `within` s of `since`: released (see `released`), no thread's PC one past
        a breakpoint's address, and every worker's counter moving."""
        why: list[str | None] = [None]

        def free() -> bool:
            why[0] = self.released()
            return why[0] is None

        assert wait_until(free, timeout=max(0.0, since + within - time.monotonic())), why[0]
        assert not self.stopped_past(breakpoints), self.program_counters()
        before = self.counter_values()
        assert wait_until(
            lambda: all(now > then for now, then in zip(self.counter_values(), before, strict=True))
        ), (before, self.counter_values())
        assert self.released() is None, self.released()


def ours(frontend: int) -> dict[int, str]:
    """PID -> command line of the front end's descendants (gdb, gdbserver, the guard,
    attach helpers, file server). Not the resident agent a command starts, nor the file
    servers the agent forks: each is nobody's child (`agent_client.spawn_agent`,
    agent_process's `server` request)."""
    found = {}
    for child in psutil.Process(frontend).children(recursive=True):
        with contextlib.suppress(psutil.Error):
            found[child.pid] = " ".join(child.cmdline())
    return found


def left_over(processes: dict[int, str]) -> dict[int, str]:
    """Those of `processes` still alive (not zombies): the same PID and command line."""
    alive = {}
    for pid, line in processes.items():
        try:
            process = psutil.Process(pid)
            if process.status() != psutil.STATUS_ZOMBIE and " ".join(process.cmdline()) == line:
                alive[pid] = line
        except psutil.Error:
            continue
    return alive


def guard_of(processes: dict[int, str], target: int) -> int:
    """The trap guard guarding `target` among `processes`."""
    guards = [
        pid
        for pid, line in processes.items()
        if "cntr_tui.gdb.guard" in line and line.split("main()", 1)[1].split()[1:2] == [str(target)]
    ]
    assert len(guards) == 1, processes
    return guards[0]


def guard_outlives_terminal(guard: int, frontend: int) -> dict[str, bool]:
    """Whether the guard is out of the front end's session and process group, and
    ignores SIGHUP (all True for a guard that outlives its terminal)."""
    return {
        "own session": os.getsid(guard) != os.getsid(frontend),
        "own process group": os.getpgid(guard) != os.getpgid(frontend),
        "ignores SIGHUP": bool(int(status_fields(guard)["SigIgn"], 16) & SIGHUP_BIT),
    }


def command_of(pid: int) -> str:
    """A process's command line, for a failure message ("gone" when it ended)."""
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as file:
            return file.read().replace(b"\0", b" ").decode(errors="replace").strip()[:160]
    except OSError:
        return "gone"


TRACE_CHUNK = re.compile(rb"^\d+\.\d{3} ([<>]) ", re.MULTILINE)
MI_RESULT = re.compile(rb"^(\d+)\^(\w+)", re.MULTILINE)
DETACH_SENT = re.compile(rb"^(\d+)-target-detach\b", re.MULTILINE)


def trace_sessions(trace: bytes) -> list[tuple[bytes, bytes]]:
    """A CNTR_TUI_GDB_TRACE file's gdb sessions, in order, each as (what was sent,
    what gdb answered), the chunks of each direction joined. The file holds one
    chunk per read or write (a timestamp, `>` or `<`, the bytes, a newline), and a
    read may end inside a line (seen in CI: `< 24` then `< ^done`); a new session
    starts at a command with token 1."""
    heads = list(TRACE_CHUNK.finditer(trace))
    sessions: list[tuple[list[bytes], list[bytes]]] = []
    for index, head in enumerate(heads):
        end = heads[index + 1].start() if index + 1 < len(heads) else len(trace)
        data = trace[head.end() : end]
        data = data[:-1] if data.endswith(b"\n") else data  # the writer's own newline
        sent = head.group(1) == b">"
        if not sessions or (sent and data.startswith(b"1-")):
            sessions.append(([], []))
        sessions[-1][0 if sent else 1].append(data)
    return [(b"".join(sent), b"".join(answered)) for sent, answered in sessions]


def gdb_detached(trace: bytes) -> bool:
    """Whether gdb, in a CNTR_TUI_GDB_TRACE file's bytes, was asked to detach in its
    last session and answered `^done` to each detach of every session (gdb takes its
    breakpoints out before it detaches)."""
    sessions = trace_sessions(trace)
    if not sessions or not DETACH_SENT.search(sessions[-1][0]):
        return False
    for sent, answered in sessions:
        results = dict(MI_RESULT.findall(answered))
        if any(results.get(token) != b"done" for token in DETACH_SENT.findall(sent)):
            return False
    return True


GUARD_DETACHED = re.compile(r"(\d+) trap\(s\) removed, the guard detached gdbserver")


def guard_detach_removed(said: str) -> int | None:
    """How many traps the console's closing note says were removed when the guard
    detached gdbserver itself (None: the note does not say the guard detached).
    The note adds the guard's rescue's count to gdbserver's `z0` removals."""
    found = GUARD_DETACHED.search(said)
    return int(found.group(1)) if found else None
