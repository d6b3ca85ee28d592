"""GdbSession: the asyncio API the app awaits. One session = one gdb = one attach.

    launcher = await AttachLauncher.start(container)     # or HostLauncher(host_pid)
    session = await GdbSession.start(launcher)           # gdb up, symbol setup applied
    stop = (await session.attach(pid_in_container, host_pid=host_pid)).unwrap()
    threads = (await session.threads()).unwrap()
    async for event in session.events(): ...             # Stopped, Running, SessionEnded...
    await session.detach()                               # the process runs on; gdb exits

Every command returns a `Result` (`.ok`, `.value`, `.error`, `.unwrap()`) and never
raises for gdb's errors, so a typo in an expression does not end the session. Thread
and frame arguments default to the selected ones (`selected_thread`, `selected_frame`).
Run control (`continue_`, `next`, `step`, `finish`, `until`, `step_instruction`,
`next_instruction`, `run_to`) returns once the process runs; `wait_stopped()` (or a
`Stopped` event) gives the stop. `state` is "detached" | "stopped" | "running" | "ended".

The session ends, with exactly one `SessionEnded` event (kind: detached,
inferior-exited, gdb-exited, container-stopped, file-server-lost, closed), when it is
detached or closed, when the process exits or is killed, when gdb dies, or when the
merged root's file server goes away.

The tracer is gdbserver when the launcher offers one (`tracer` says which): gdb
connects to it (`target extended-remote`) before attaching. A trap guard (see guard_process.py)
holds gdbserver's connection too: if gdb dies, the guard detaches gdbserver cleanly,
traps removed first; if the tracer dies anyway, it takes the traps out itself. The
guard is armed before `-target-attach` (its start overlaps gdb's attach and symbol
reading) and released if the attach fails.
CNTR_TUI_GDB_TRACE=FILE (Settings.gdb_trace) appends every byte exchanged with gdb to
FILE.

One class, one module per concern: `GdbSession` is composed of mixins that share one
state (`core.SessionCore`); each inherits the concerns it builds on.

    core         gdb's process and transport, the shared state, one MI command
    sources      symbols, shared libraries, substitute-path rules learnt from frames
    fanout       records -> events, to listeners and iterators; stops; the one end
    tracer       gdbserver's connection and the trap guard
    execution    continue, next, step, finish, until, stepi, nexti, run to, interrupt, cli
    stack        threads, backtraces, the selected thread and frame
    data         variables, expressions, var-object children, registers, memory,
                 disassembly
    breakpoints  insert, list, delete, enable, disable, condition
    lifecycle    start, attach, detach, close; ends no one asked for
"""

from __future__ import annotations

from cntr_tui.gdb.session.breakpoints import SessionBreakpoints
from cntr_tui.gdb.session.core import STOP_TIMEOUT, State
from cntr_tui.gdb.session.data import SessionData
from cntr_tui.gdb.session.lifecycle import SessionLifecycle

__all__ = ["STOP_TIMEOUT", "GdbSession", "State"]


class GdbSession(SessionLifecycle, SessionBreakpoints, SessionData):
    """Drive one gdb over MI. Create with `await GdbSession.start(launcher)`."""
