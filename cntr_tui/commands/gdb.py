"""`cntr-tui gdb [-t TYPES] [--pid PID] [--non-stop] CONTAINER [--batch] [-ex CMD]...`
`cntr-tui gdb --core FILE [--batch] [-ex CMD]...`

gdb attaches to the container's main process (or `--pid`, a PID as the container sees
it), inside an attach session when one can be started, so that PIDs, threads and files
are the container's. `--batch` runs the `-ex` commands over MI (waiting, as gdb's --batch
does, for the stop of each that resumes the program), prints their console output and
detaches (the process runs on); otherwise gdb's own console opens, with the
same symbol setup given as `-iex` commands. With `--core`, the host's gdb opens a
core kept by `cntr-tui core`, its objects as sysroot (debug/core_open.py). With
`--non-stop`, gdb runs in its non-stop mode (`interrupt`, `continue`, `next`... act on
the current thread, `-a` on every one; `thread N` picks one). The work
is the debug service's (cntr_tui/debug/); this module only maps the arguments onto it.
"""

from __future__ import annotations

import argparse
import dataclasses
import sys
from collections.abc import Sequence
from typing import TYPE_CHECKING

from cntr_tui.debug.target import find_target
from cntr_tui.errors import UserError
from cntr_tui.gdb.settings import ForkOptions

if TYPE_CHECKING:
    from cntr_tui.attach.spare import SpareHelper


def run_gdb(args: argparse.Namespace, spares: Sequence[SpareHelper] = ()) -> int:
    """`spares`: attach helpers started while we parsed and looked up (spare.py), for
    gdb's and gdbserver's starts with --batch; the caller ends those left unused."""
    forks = fork_options(args)
    if args.core is not None:
        if args.container is not None or args.pid is not None or args.non_stop:
            raise UserError("--core opens a kept core: give it no CONTAINER, --pid or --non-stop")
        from cntr_tui.debug.core_open import run_core_gdb

        return run_core_gdb(args.core, args.ex, args.batch)
    if args.container is None:
        raise UserError("name a CONTAINER (or --core FILE)")
    target = find_target(args.container, args.types, args.pid)
    if args.non_stop:
        target = dataclasses.replace(target, non_stop=True)
    target = dataclasses.replace(target, forks=forks)
    if args.batch:
        from cntr_tui.debug.launchers import begin_in_session

        # gdb starts (about 0.1 s) while we import asyncio and the engine
        starts = begin_in_session(target, spares)
        import asyncio

        from cntr_tui.debug.batch import run_batch

        try:
            return asyncio.run(run_batch(target, args.ex, starts))
        finally:
            if starts is not None:
                starts.close()  # already done by run_batch unless it failed early
    if not sys.stdin.isatty():
        raise UserError("an interactive gdb needs a terminal: use --batch with -ex commands")
    from cntr_tui.debug.console import run_interactive

    # gdb's console attaches first: its settings are in force before the program runs again
    fork_settings = [f"set {name} {value}" for name, value in forks.pairs()]
    return run_interactive(target, [*fork_settings, *args.ex])


def fork_options(args: argparse.Namespace) -> ForkOptions:
    """--follow-fork and --no-detach-on-fork; refused with --core (no process forks)."""
    forks = ForkOptions(args.follow_fork, args.detach_on_fork)
    if args.core is not None and forks != ForkOptions():
        raise UserError("--core opens a kept core: it has no fork to follow")
    return forks
