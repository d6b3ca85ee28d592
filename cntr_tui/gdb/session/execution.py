"""GdbSession's execution control: continue, next, step, finish, until, stepi, nexti and
interrupt (each returns once the process runs, or for interrupt, once it stopped), and
console commands, which may resume it too.
"""

from __future__ import annotations

import asyncio
import os
import signal
import time
from typing import Any

from cntr_tui.gdb.events import ConsoleOutput, Paused, Stopped
from cntr_tui.gdb.records import Result
from cntr_tui.gdb.session.core import STOP_TIMEOUT
from cntr_tui.gdb.session.fanout import SessionEvents
from cntr_tui.gdb.transport import MiResult, mi_quote
from cntr_tui.linux.proc_stat import alive
from cntr_tui.linux.proc_status import interrupt_pending

SCHEDULER_LOCKING = ("off", "on", "step", "replay")  # gdb's modes

# stops gone through (each resumed without its signal) until the one of our SIGINT: one
# is enough unless other stops come first each time (breakpoints, caught syscalls)
INTERRUPT_TAKES = 16


def interrupt_stop(stop: Stopped) -> bool:
    """Whether `stop` is a SIGINT's (gdb's own stop on it, or a signal catchpoint's)."""
    return stop.reason in ("signal-received", "signal-caught") and stop.signal_name == "SIGINT"


# The console's commands that change breakpoints (gdb's name, its shortest unique
# abbreviation or alias): run in a hold while an all-stop program runs, as the UI's
# breakpoint changes are. Not `commands` (it reads the next lines as its input).
BREAKPOINT_COMMANDS = {
    "break": "b",
    "tbreak": "tb",
    "hbreak": "hb",
    "thbreak": "thb",
    "rbreak": "rb",
    "delete": "del",
    "disable": "dis",
    "enable": "en",
    "condition": "cond",
    "ignore": "ig",
    "watch": "wa",
    "rwatch": "rw",
    "awatch": "aw",
    "dprintf": "dp",
    "catch": "cat",
    "tcatch": "tc",
    "clear": "cle",
}
DELETE_ABBREVIATIONS = ("d", "del")  # `de` is ambiguous (define, detach, ...)


def breakpoint_command(command: str) -> bool:
    """Whether console `command` is one that sets, changes or removes breakpoints."""
    word = command.split(maxsplit=1)[0] if command.strip() else ""
    if word in DELETE_ABBREVIATIONS:
        return True
    return any(
        word == shortest or (len(word) > len(shortest) and name.startswith(word))
        for name, shortest in BREAKPOINT_COMMANDS.items()
    )


class SessionExecution(SessionEvents):
    """Run control: resume, step, interrupt."""

    _held_seconds: float | None = None  # the last hold's, None if not resumed

    async def cli(self, command: str) -> Result[str]:
        """Run a CLI command (as typed at `(gdb)`); its console output."""
        if command.strip() == "interrupt" and self.tracer == "gdbserver":
            stop = await self.interrupt()  # not gdb's ^C to gdbserver (see interrupt)
            return Result("") if stop.ok else Result(error=stop.error)
        console = f"-interpreter-exec console {mi_quote(command)}"
        if breakpoint_command(command):  # refused while an all-stop program runs
            async with self._hold_lock:  # _held_result's, with the hold's time read
                self._held_seconds = None
                result = await self._held_alone(console, "console command")
                held = self._held_seconds
            if result.ok and held is not None:
                said = f"program paused {held * 1000:.1f} ms for it\n"
                self._emit(ConsoleOutput(said))
                return Result(result.console + said)
        else:
            result = await self._resuming(console)
        if not result.ok:
            return Result(error=result.error)
        return Result(result.console)

    async def _resuming(self, mi_command: str) -> MiResult:
        """Send a command that may resume the process; track the state it leaves."""
        stops_before = self._stop_generation
        result = await self.command(mi_command)
        # `*running` and even the next `*stopped` may have been read in the same chunk
        # as `^running`: only a stop that came before the command leaves us "stopped".
        resumed = result.klass == "running" and self.state != "ended"
        if resumed and self._stop_generation == stops_before:
            self.state = "running"
        return result

    async def _run(self, mi_command: str, thread_id: int | None = None) -> Result[None]:
        thread = f" --thread {thread_id}" if thread_id is not None else ""
        result = await self._resuming(f"{mi_command}{thread}")
        return Result(None) if result.ok else Result(error=result.error)

    async def continue_(self, thread_id: int | None = None) -> Result[None]:
        """Resume (all threads, or one in non-stop mode). Returns once running."""
        if self.non_stop and thread_id is None:
            return await self._run("-exec-continue --all")
        return await self._run("-exec-continue", thread_id)

    async def interrupt(
        self, thread_id: int | None = None, timeout: float = STOP_TIMEOUT
    ) -> Result[Stopped]:
        """Stop the running process (in non-stop mode: one thread, or all of them when
        `thread_id` is None) and wait for the stop."""
        if self.state == "stopped" and self.last_stop is not None and not self.non_stop:
            return Result(self.last_stop)
        if self.tracer == "gdbserver" and not self.non_stop and self.target_host_pid:
            # gdbserver's own interrupt signals the process group: kill(-1) for a
            # container's PID 1, and nothing when the process leads no group.
            command = ""
        elif not self.non_stop:
            command = "-exec-interrupt"
        elif thread_id is None:
            command = "-exec-interrupt --all"
        else:
            command = f"-exec-interrupt --thread {thread_id}"
        stops_before = self._stop_generation
        last_before = self.last_stop
        if command:
            result = await self.command(command)
            if not result.ok:
                return Result(error=result.error)
        else:
            if self._guard_detaches or not alive(self._process.pid):
                # gdb is gone or going: the guard takes over, and a SIGINT sent now
                # could reach the program after its `D` (its own handler, or death)
                return Result(error="gdb is gone: the guard detaches the process")
            try:
                os.kill(self.target_host_pid, signal.SIGINT)  # type: ignore[arg-type]
            except ProcessLookupError:
                return Result(error=f"process {self.pid} is gone")
            return await self._interrupt_stop(timeout)

        def wanted(stop: Stopped) -> bool:
            return thread_id is None or stop.thread_id == thread_id

        stop = self.last_stop
        came = self._stop_generation != stops_before and stop is not last_before
        if came and stop is not None and wanted(stop):
            return Result(stop)
        return await self._next_stop(wanted, timeout)

    async def _interrupt_stop(self, timeout: float) -> Result[Stopped]:
        """After our SIGINT to the process: the stop it makes, never an earlier one.

        gdb stops on a SIGINT and does not pass it on (`handle SIGINT nopass`, its
        default), but another stop can be reported first: a breakpoint hit, a SIGSTOP
        of gdbserver's own (seen on the Go program: thread 2 in runtime.futex). Our
        SIGINT is then still queued for the process (ShdPnd: every thread is held),
        or taken by a thread whose stop gdbserver keeps for later. Returned there, it
        was left for the program: after the detach, the program took it and died (or
        ran its own handler); a `continue` stopped again at once. So each other stop
        is resumed without its signal (`signal 0`: a SIGSTOP passed on would stop the
        whole program) until the SIGINT's stop comes, which then is the one returned
        (the listeners see the others too)."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        stop = await self._next_stop(lambda _stop: True, timeout)
        for _ in range(INTERRUPT_TAKES):
            if not stop.ok or stop.value is None or interrupt_stop(stop.value):
                return stop
            if self.state != "stopped":
                return stop  # it exited
            stop = await self._resume_without_signal(stop.value, deadline - loop.time())
        if stop.ok and stop.value is not None and interrupt_stop(stop.value):
            return stop
        return Result(error=f"no stop for the SIGINT sent to process {self.pid}")

    async def _resume_without_signal(self, stop: Stopped, timeout: float) -> Result[Stopped]:
        """Resume the process stopped at `stop` with no signal for its thread (gdb's
        `signal 0`; `-exec-continue` would pass a SIGSTOP on); the next stop."""
        stops_before = self._stop_generation
        thread = f"--thread {stop.thread_id} " if stop.thread_id is not None else ""
        resumed = await self._resuming(f'-interpreter-exec {thread}console "signal 0"')
        if not resumed.ok:
            return Result(error=resumed.error)
        if self._stop_generation != stops_before and self.last_stop is not None:
            return Result(self.last_stop)  # read in the same chunk as ^running
        return await self._next_stop(lambda _stop: True, max(0.0, timeout))

    async def _take_queued_interrupt(self, timeout: float = STOP_TIMEOUT) -> Result[None]:
        """Let gdb take a SIGINT still queued for the stopped process (SigPnd or ShdPnd of
        any thread in /proc), before a detach or after a hold.

        Once detached, the program would die of it (or run its own SIGINT handler).
        Resumed without the current stop's signal, a thread takes it at once and gdb
        stops on it without passing it on (`handle SIGINT nopass`, gdb's default).
        An interrupt takes its own SIGINT before it returns (`_interrupt_stop`); one
        found here was sent by someone else while gdb held the program: under gdb, as
        any SIGINT that comes while it traces, it is not passed on."""
        pid = self.target_host_pid
        if pid is None or self.non_stop or self.state != "stopped":
            return Result(None)
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        for _ in range(INTERRUPT_TAKES):
            if not interrupt_pending(pid) or self.state != "stopped":
                return Result(None)
            if self.last_stop is None:
                break
            stop = await self._resume_without_signal(self.last_stop, deadline - loop.time())
            if not stop.ok:
                return Result(error=stop.error)
        if self.state == "stopped" and interrupt_pending(pid):
            return Result(error=f"a SIGINT is still queued for process {self.pid}")
        return Result(None)

    async def _back_at(self, real: Stopped) -> Result[None]:
        """After a hold's interrupt that a real stop raced: the SIGINT left queued taken,
        and gdb's current thread the real stop's again (the session's and the screen's).

        gdbserver may hold both events, the breakpoint's trap and our SIGINT taken by
        another thread (the main one), and report the trap first: the interrupt's
        `signal 0` then gets the SIGINT's stop, nothing runs, but gdb's current thread
        is the SIGINT's, and the console's next `up` or `finish` (or a `break` with no
        location) acted there (issue 12: `finish` ran the main thread out of its
        nanosleep, and the program stopped again in it)."""
        taken = await self._take_queued_interrupt()
        if self.state != "stopped":
            return taken
        # a stop with no reason is no event in its thread: a console `attach`'s own stop
        # (gdb answers `attach` before it), which the session took for a run; gdb's
        # current thread stays where the interrupt left it (a second process attached on
        # plain namespaces has no symbols: a `break` there would find none)
        if real.thread_id is not None and real.reason != "unknown":
            selected = await self.command(f"-thread-select {real.thread_id}")
            if not selected.ok:
                return Result(error=selected.error)
        self.last_stop = real  # the stop the listeners were told of
        self.selected_thread = real.thread_id or self.selected_thread
        self.selected_frame = 0
        return taken

    async def next(self, thread_id: int | None = None) -> Result[None]:
        return await self._run("-exec-next", thread_id or self.selected_thread)

    async def step(self, thread_id: int | None = None) -> Result[None]:
        return await self._run("-exec-step", thread_id or self.selected_thread)

    async def finish(self, thread_id: int | None = None) -> Result[None]:
        frame = f" --frame {self.selected_frame}" if thread_id is None else ""
        result = await self._run(f"-exec-finish{frame}", thread_id or self.selected_thread)
        return result

    async def until(
        self, location: str | None = None, thread_id: int | None = None
    ) -> Result[None]:
        command = f"-exec-until {location}" if location else "-exec-until"
        return await self._run(command, thread_id or self.selected_thread)

    async def step_instruction(self, thread_id: int | None = None) -> Result[None]:
        return await self._run("-exec-step-instruction", thread_id or self.selected_thread)

    async def next_instruction(self, thread_id: int | None = None) -> Result[None]:
        return await self._run("-exec-next-instruction", thread_id or self.selected_thread)

    async def run_to(self, location: str, thread_id: int | None = None) -> Result[None]:
        """A temporary breakpoint at `location`, then continue (see DebugEngine.run_to);
        while the program runs, the breakpoint is set as break_insert's are. gdb deletes
        it when it is hit; a stop elsewhere first deletes it too (fanout's
        `_run_to_done`)."""
        running = self.state == "running"
        # while it runs: the temporary breakpoint set in a hold, and it runs on to it
        inserted = await self._held(f"-break-insert -t {mi_quote(location)}", "breakpoint")
        if not inserted.ok:
            return Result(error=inserted.error)
        number = str(((inserted.value or {}).get("bkpt") or {}).get("number", ""))
        if running:
            stop = self.last_stop if self.state == "stopped" else None
            if stop is None:
                self._run_to_number = number or None
            elif stop.breakpoint_number != number:  # a stop elsewhere raced the hold
                await self._call(f"-break-delete {number}")
            return Result(None)
        self._run_to_number = number or None
        resumed = await self.continue_(thread_id)
        if not resumed.ok and self._run_to_number == number:
            self._run_to_number = None
            await self._call(f"-break-delete {number}")
        return resumed

    async def set_scheduler_locking(self, mode: str) -> Result[None]:
        """See DebugEngine.set_scheduler_locking (-gdb-set takes the word unquoted)."""
        if mode not in SCHEDULER_LOCKING:
            return Result(error=f"scheduler-locking is one of {', '.join(SCHEDULER_LOCKING)}")
        done = await self._call(f"-gdb-set scheduler-locking {mode}")
        return Result(None) if done.ok else Result(error=done.error)

    async def _held(self, mi_command: str, reason: str) -> Result[dict[str, Any]]:
        """`_held_result` as a Result of the payload."""
        result = await self._held_result(mi_command, reason)
        return Result(result.payload) if result.ok else Result(error=result.error)

    async def _held_result(self, mi_command: str, reason: str = "breakpoint") -> MiResult:
        """Run `mi_command`, which gdb refuses while an all-stop program runs: interrupt,
        run it, resume, unseen by the listeners (no Stopped/Running for it), then emit
        `Paused(reason, seconds held)`. A real stop that raced the interrupt (a
        breakpoint hit) is the listeners' stop, told once: the program stays stopped
        there, a SIGINT left queued by the interrupt is taken and gdb's current thread
        is the stop's before the command runs (`_back_at`). One hold at a time."""
        async with self._hold_lock:
            return await self._held_alone(mi_command, reason)

    async def _held_alone(self, mi_command: str, reason: str) -> MiResult:
        if self.state != "running" or self.non_stop:
            return await self.command(mi_command)
        started = time.monotonic()
        self._holding = True
        self._held_real_stop = None
        try:
            stop = await self.interrupt()
            if not stop.ok:
                return MiResult("error", {"msg": stop.error})
            real = self._held_real_stop
            if real is not None:
                taken = await self._back_at(real)
                if not taken.ok:
                    return MiResult("error", {"msg": taken.error})
                return await self.command(mi_command)
            result = await self.command(mi_command)
            self._running_to_swallow += 1
            resumed = await self._resuming("-exec-continue")
            if not resumed.ok:
                self._running_to_swallow = 0
                why = f"stopped for the change, not resumed: {resumed.error}"
                return MiResult("error", {"msg": why})
        finally:
            self._holding = False
        self._held_seconds = time.monotonic() - started
        self._emit(Paused(reason, self._held_seconds))
        return result
