"""`cntr-tui snapshot [-t TYPES] [--pid PID] CONTAINER [--json] [--locals] [--max-pause MS]`

Every thread's stack (and with --locals the locals of its innermost frames with a
source line), read while the program is stopped; the program then runs on, untraced.
The first line says how long it was stopped. The text groups threads with identical
stacks ("12 threads in nanosleep <- spin <- worker_main"); --json lists every thread
in the versioned schema of cntr_tui/debug/snapshot.py. The work is the debug service's
(debug/snapshot.py); this module maps the arguments and formats what came back, after
the program was let go. The fast path (debug/stack_snapshot.py: our own short stop,
gdb unwinds a copy of the stacks afterwards) is taken where it can be; elsewhere (and
with --via-gdb) gdb stops the program, started in an attach session as for
`gdb --batch`, and a line on stderr says why.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from typing import TYPE_CHECKING

from cntr_tui.debug.target import find_target
from cntr_tui.errors import UserError

if TYPE_CHECKING:
    from cntr_tui.attach.spare import SpareHelper
    from cntr_tui.debug.snapshot import Snapshot
    from cntr_tui.debug.target import DebugTarget
    from cntr_tui.gdb.starts import SessionStarts


def run_snapshot(args: argparse.Namespace, spares: Sequence[SpareHelper] = ()) -> int:
    """`spares`: attach helpers started while we parsed (as for `gdb --batch`)."""
    if args.core is not None:
        snapshot: Snapshot | int = core_snapshot(args)
    else:
        if args.container is None:
            raise UserError("name a CONTAINER (or --core FILE)")
        target = find_target(args.container, args.types, args.pid)
        from cntr_tui.debug.ending import say
        from cntr_tui.debug.stack_snapshot import through_gdb

        via_gdb = through_gdb(
            target, args.max_pause, bool(args.locals), bool(args.via_gdb), args.keep_core, say
        )
        starts = None
        if via_gdb:
            from cntr_tui.debug.launchers import begin_in_session

            starts = begin_in_session(target, spares)  # gdb starts while asyncio is imported
        import asyncio

        try:
            snapshot = asyncio.run(snapshot_with_signals(target, starts, args, via_gdb))
        finally:
            if starts is not None:
                starts.close()
    if isinstance(snapshot, int):
        return snapshot
    if args.json:
        from cntr_tui.debug.snapshot import snapshot_json

        json.dump(snapshot_json(snapshot), sys.stdout, indent=1)
        sys.stdout.write("\n")
    else:
        from cntr_tui.debug.snapshot_text import snapshot_text

        sys.stdout.write("".join(f"{line}\n" for line in snapshot_text(snapshot, args.locals)))
    return 0


def core_snapshot(args: argparse.Namespace) -> Snapshot:
    if args.container is not None or args.pid is not None or args.max_pause is not None:
        raise UserError("--core reads a kept core: give it no CONTAINER, --pid or --max-pause")
    if args.via_gdb or args.keep_core is not None:
        raise UserError(
            "--core reads a kept core: --via-gdb and --keep-core are for a live process"
        )
    import asyncio

    from cntr_tui.debug.core_snapshot import snapshot_of_core

    return asyncio.run(snapshot_of_core(args.core, args.locals))


async def snapshot_with_signals(
    target: DebugTarget, starts: SessionStarts | None, args: argparse.Namespace, via_gdb: bool
) -> Snapshot | int:
    """The snapshot, or on SIGTERM/SIGHUP the exit status of a command they ended
    (what take_snapshot started is closed on the way out, as `gdb --batch` does)."""
    import asyncio

    from cntr_tui.debug.ending import EndingSignals, say
    from cntr_tui.debug.stack_snapshot import snapshot_taken

    with EndingSignals() as ending:
        try:
            return await snapshot_taken(
                target,
                starts,
                with_locals=args.locals,
                budget_ms=args.max_pause,
                notes=say,
                via_gdb=via_gdb,
                keep=args.keep_core,
            )
        except asyncio.CancelledError:
            if ending.received is None:
                raise
            asyncio.current_task().uncancel()  # type: ignore[union-attr]
            return 128 + ending.received
