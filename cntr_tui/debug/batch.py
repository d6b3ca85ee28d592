"""`cntr-tui gdb --batch`: the -ex commands over MI, their console output printed as gdb
prints it, then a detach (the process runs on). As gdb's own --batch does, a command
that leaves the program running (continue, next, step, finish, until, advance...) is
waited for: the next command runs once the program stopped (gdb's lines for the stop
are printed), and none once it exited. A SIGINT during that wait interrupts the
program (the engine's interrupt) and the run goes on; SIGTERM or SIGHUP ends the run
with a detach. In non-stop mode (`--non-stop`) the wait ends at the first thread's
stop, and that thread becomes the current one, as in all-stop mode.
"""

from __future__ import annotations

import asyncio
import contextlib
import signal
import sys
from collections.abc import Sequence
from typing import TYPE_CHECKING

from cntr_tui.debug.ending import DETACH_TIMEOUT, SIGNAL_DETACH_TIMEOUT, EndingSignals, say
from cntr_tui.debug.launchers import choose_launch
from cntr_tui.debug.protocol import DebugUnavailable
from cntr_tui.debug.service import LiveDebugSession, start_debug
from cntr_tui.debug.target import DebugTarget
from cntr_tui.errors import UserError
from cntr_tui.gdb.events import ConsoleOutput, Event, Running, SessionEnded, Stopped
from cntr_tui.gdb.records import Result

if TYPE_CHECKING:
    from cntr_tui.gdb.session import GdbSession
    from cntr_tui.gdb.starts import SessionStarts


async def run_batch(
    target: DebugTarget, commands: Sequence[str], starts: SessionStarts | None = None
) -> int:
    with EndingSignals() as ending:
        try:
            return await batch(target, commands, starts, ending)
        except asyncio.CancelledError:
            if ending.received is None:
                raise
            asyncio.current_task().uncancel()  # type: ignore[union-attr]
            return 128 + ending.received


async def batch(
    target: DebugTarget,
    commands: Sequence[str],
    starts: SessionStarts | None,
    ending: EndingSignals,
) -> int:
    launch = await choose_launch(target, starts)
    try:
        session = await start_debug(target, launch)
    except DebugUnavailable as error:
        raise UserError(str(error)) from error
    try:
        return await run_commands(session, commands)
    finally:
        timeout = SIGNAL_DETACH_TIMEOUT if ending.received is not None else DETACH_TIMEOUT
        await session.gdb.close(detach_timeout=timeout)
        if ending.received is not None:
            outcome = session.gdb.guard_outcome or {}
            how = "the guard detached gdbserver" if outcome.get("detached_by_guard") else "gdb"
            say(f"{signal.Signals(ending.received).name}: detached ({how})")


async def run_commands(session: LiveDebugSession, commands: Sequence[str]) -> int:
    """Attach, run each command (waiting for the stop of those that resume), detach:
    1 when a command failed or some were left unrun because the program ended, else 0."""
    try:
        await session.attach()
    except DebugUnavailable as error:
        raise UserError(str(error)) from error
    for note in session.notes:
        say(note)
    gdb = session.gdb
    status = 0
    with BatchConsole(gdb) as console:
        for index, command in enumerate(commands):
            output = await console.run(command)
            if not output.ok:
                print(f"gdb: {command}: {output.error}", file=sys.stderr)
                status = 1
            if gdb.state == "ended":
                left = len(commands) - index - 1
                reason = gdb.ended.reason if gdb.ended is not None else "the session ended"
                unrun = f"; {left} command(s) after `{command}` not run" if left else ""
                say(f"{reason}{unrun}")
                return 1 if left else status
    if gdb.state != "ended":
        detached = await gdb.detach()
        if not detached.ok:
            raise UserError(f"detaching failed: {detached.error}")
    return status


class BatchConsole:
    """While active: gdb's console output is echoed on stdout as it comes (a stop's
    lines included), and a SIGINT interrupts the program while a command left it
    running (a SIGINT during a command that leaves it stopped is dropped, said so)."""

    def __init__(self, gdb: GdbSession) -> None:
        self._gdb = gdb
        self._changed = asyncio.Event()  # a stop, or the end
        self._interrupts = 0  # SIGINTs not yet acted on
        self._previous_sigint: object = None
        self._stop: Stopped | None = None  # the last stop during the command
        self._resumed = False  # the command resumed the program (a Running came)

    def __enter__(self) -> BatchConsole:
        self._gdb.add_listener(self._on_event)
        self._previous_sigint = signal.getsignal(signal.SIGINT)
        asyncio.get_running_loop().add_signal_handler(signal.SIGINT, self._on_interrupt)
        return self

    def __exit__(self, *exc_info: object) -> None:
        self._gdb.remove_listener(self._on_event)
        asyncio.get_running_loop().remove_signal_handler(signal.SIGINT)
        signal.signal(signal.SIGINT, self._previous_sigint)  # type: ignore[arg-type]

    def _on_event(self, event: Event) -> None:
        if isinstance(event, ConsoleOutput):
            with contextlib.suppress(OSError):  # no reader, no terminal: the run goes on
                sys.stdout.write(event.text)
                sys.stdout.flush()
        elif isinstance(event, Running):
            self._resumed = True
        elif isinstance(event, Stopped | SessionEnded):
            if isinstance(event, Stopped):
                self._stop = event
            self._changed.set()

    def _on_interrupt(self) -> None:
        self._interrupts += 1
        self._changed.set()

    async def run(self, command: str) -> Result[str]:
        """`command` at gdb's console, then, if it left the program running (not a
        background `... &`), the wait for its stop or the session's end."""
        self._interrupts = 0
        self._stop = None
        self._resumed = False
        output = await self._gdb.cli(command)
        if command.rstrip().endswith("&"):
            return output
        # only a command that resumed it waits: after `continue &`, `info threads` finds
        # the program running and must not wait for a stop
        while self._resumed and self._gdb.state == "running":
            if self._interrupts:
                self._interrupts = 0
                stopped = await self._gdb.interrupt()
                if not stopped.ok:
                    say(f"SIGINT: interrupting the program failed: {stopped.error}")
                continue
            self._changed.clear()
            await self._changed.wait()
        if self._interrupts:
            say(f"SIGINT: the program is not running (`{command}` left it stopped)")
        stop = self._stop
        if self._gdb.non_stop and stop is not None and stop.thread_id is not None:
            # as all-stop gdb does at a stop: the thread that stopped is the current
            # one, so that `print`, `bt`, `next` after it are about it (non-stop gdb
            # leaves the selection where it was, often on a thread still running)
            await self._gdb.select_thread(stop.thread_id)
        return output
