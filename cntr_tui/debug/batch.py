"""`cntr-tui gdb --batch`: the -ex commands over MI, their console output printed, then
a detach (the process runs on). SIGTERM or SIGHUP ends the run with a detach too.
"""

from __future__ import annotations

import asyncio
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

if TYPE_CHECKING:
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
    """Attach, run each command, detach: 1 when a command failed, else 0."""
    try:
        await session.attach()
    except DebugUnavailable as error:
        raise UserError(str(error)) from error
    for note in session.notes:
        say(note)
    gdb = session.gdb
    status = 0
    for command in commands:
        output = await gdb.cli(command)
        if output.ok:
            sys.stdout.write(output.value or "")
        else:
            print(f"gdb: {command}: {output.error}", file=sys.stderr)
            status = 1
        sys.stdout.flush()
        if gdb.state == "ended":
            break
    if gdb.state != "ended":
        detached = await gdb.detach()
        if not detached.ok:
            raise UserError(f"detaching failed: {detached.error}")
    return status
