"""Who traces the program: the launcher's gdbserver, connected to gdb before the attach (a
failed one is tried once more before gdb traces itself), and the trap guard, armed
before `-target-attach` and told the outcome (see guard_process.py).
"""

from __future__ import annotations

from cntr_tui.gdb.events import LogOutput
from cntr_tui.gdb.gdbserver import bridge_target
from cntr_tui.gdb.launch import GdbserverProcess
from cntr_tui.gdb.session.fanout import SessionEvents
from cntr_tui.gdb.transport import mi_quote
from cntr_tui.gdb.trap_guard import TrapGuard
from cntr_tui.linux.proc_status import tracer_pid

GDBSERVER_ATTEMPTS = 2  # a failed gdbserver start is tried once more


class SessionTracer(SessionEvents):
    """gdbserver's connection and the trap guard."""

    async def _connect_gdbserver(self) -> GdbserverProcess | None:
        """Start the launcher's gdbserver and connect gdb to it; None: gdb traces. A
        gdbserver that fails is tried once more (a fresh one) before gdb traces itself:
        the program's protection is worth a second start."""
        start = getattr(self._launcher, "start_gdbserver", None)
        if start is None:
            return None
        why = ""
        for attempt in range(GDBSERVER_ATTEMPTS):
            server = await start()
            if server is None:
                if getattr(self._launcher, "tracer", None) != "gdbserver":
                    return None  # the launcher's choice: gdb traces
                why = getattr(self._launcher, "gdbserver_failure", None) or "it did not start"
            else:
                inside = self.placement.inside_session  # gdb sees the container's /dev
                bridge = bridge_target(
                    server.pid, self.placement.container_host_pid if inside else None
                )
                target = f"target extended-remote {bridge}"
                connected = await self.command(f"-interpreter-exec console {mi_quote(target)}")
                if connected.ok:
                    self.tracer = "gdbserver"
                    return server
                server.close_ends()
                why = f"gdb could not connect to it: {connected.error}"
            if attempt + 1 < GDBSERVER_ATTEMPTS:
                self._emit(LogOutput(f"gdbserver could not be used ({why}): once more\n"))
        self._gdbserver_failed(why)
        return None

    def _gdbserver_failed(self, why: str) -> None:
        self.gdbserver_failure = why
        self._emit(LogOutput(f"gdbserver could not be used ({why}): gdb traces\n"))

    async def _arm_guard(
        self, host_pid: int | None, pid: int, server: GdbserverProcess | None
    ) -> None:
        """Start the trap guard for gdb and `host_pid`; it takes gdbserver's pipe ends
        (ours are closed once it holds its copies, or if it cannot start)."""
        gdb_pid = getattr(self._process, "pid", None)
        if host_pid is None or gdb_pid is None:
            self._emit(LogOutput("no trap guard: the process's host PID is unknown\n"))
            if server is not None:
                server.close_ends()
            return
        link = None
        if server is not None:
            link = (server.host_pid, pid, server.to_server, server.from_server)
        try:
            hold = server.hold if server is not None else None
            self._guard = await TrapGuard.start(gdb_pid, host_pid, link, hold)
        except (TimeoutError, OSError) as error:
            self._emit(LogOutput(f"no trap guard: {error}\n"))
        finally:
            if server is not None:
                server.close_ends()  # the guard holds its own copies

    def _may_hold(self, host_pid: int | None, server: GdbserverProcess | None) -> bool:
        """After a failed attach: whether our tracer may hold the program all the same
        (gdb died in the attach, or it or gdbserver traces the program). Then the guard
        stays, to do its part when gdb ends."""
        if self._transport.is_closed or host_pid is None:
            return True
        ours = {getattr(self._process, "pid", None)}
        if server is not None:
            ours.add(server.host_pid)
        return tracer_pid(host_pid) in ours

    async def _rescue_summary(self) -> str:
        if self._guard is None:
            return ""
        self.guard_outcome = outcome = await self._guard.finished()
        self._guard = None
        if not outcome or outcome.get("gone"):
            return ""
        if outcome.get("error"):
            return f"; making the process safe failed: {outcome['error']}"
        removed = int(outcome.get("restored", 0)) + int(outcome.get("removed_by_gdbserver", 0))
        how = " (the guard detached gdbserver)" if outcome.get("detached_by_guard") else ""
        continued = ", continued" if outcome.get("continued") else ""
        return f"; {removed} trap(s) removed{how}{continued}, the process runs on"
