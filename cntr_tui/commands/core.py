"""`cntr-tui core [-t TYPES] [--pid PID] CONTAINER [-o FILE]`

A core of the container's process, written on the host (default under
/var/lib/cntr-tui/cores/), never into the container, with its manifest and the objects
it maps kept beside it (debug/core_bundle.py), so `cntr-tui gdb --core FILE` and
`cntr-tui snapshot --core FILE` open it after the container and its image are gone.
The one line printed says where it is and how long the program was stopped.
"""

from __future__ import annotations

import argparse
from collections.abc import Sequence
from typing import TYPE_CHECKING

from cntr_tui.debug.target import find_target

if TYPE_CHECKING:
    from cntr_tui.attach.spare import SpareHelper
    from cntr_tui.debug.core import CoreTaken
    from cntr_tui.debug.target import DebugTarget
    from cntr_tui.gdb.starts import SessionStarts


def run_core(args: argparse.Namespace, spares: Sequence[SpareHelper] = ()) -> int:
    target = find_target(args.container, args.types, args.pid)
    from cntr_tui.debug.launchers import begin_in_session

    starts = begin_in_session(target, spares)
    import asyncio

    try:
        taken = asyncio.run(core_with_signals(target, args.output, starts))
    finally:
        if starts is not None:
            starts.close()
    if isinstance(taken, int):
        return taken
    size = taken.size / (1 << 20)
    print(
        f"{target.label}, process {target.namespace_pid} (host PID {target.host_pid}): core "
        f"written to {taken.bundle.core} ({size:.1f} MiB, {taken.objects} objects kept "
        f"beside it), stopped for {taken.pause_ms:.1f} ms, running again untraced"
    )
    return 0


async def core_with_signals(
    target: DebugTarget, output: str | None, starts: SessionStarts | None
) -> CoreTaken | int:
    """The core, or on SIGTERM/SIGHUP the exit status of a command they ended (the
    program let go and the partial core removed on the way out)."""
    import asyncio

    from cntr_tui.debug.core import take_core
    from cntr_tui.debug.ending import EndingSignals, say

    with EndingSignals() as ending:
        try:
            return await take_core(target, output, starts, notes=say)
        except asyncio.CancelledError:
            if ending.received is None:
                raise
            asyncio.current_task().uncancel()  # type: ignore[union-attr]
            return 128 + ending.received
