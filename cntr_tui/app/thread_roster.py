"""The debugger screen's thread list between stops, kept when gdb says it holds."""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence

from cntr_tui.gdb.events import Event, ThreadCreated, ThreadExited
from cntr_tui.gdb.records import Thread
from cntr_tui.widgets.thread_groups import GROUP_FROM


class ThreadRoster:
    """The thread list between stops. gdb's `-thread-info` computes every thread's top
    frame (1,000 threads through gdbserver: 1.4 s, each thread's registers a round
    trip); at a stop of an all-stop program with as many threads as GROUP_FROM or more,
    the list of the stop before is kept (ids, LWPs, names; every thread stopped, top
    frames unknown: the pane reads the stacks after the stop) unless gdb said a thread
    was created or exited since (`seen`), which it does before the `*stopped` record.
    A thread renamed meanwhile keeps its old name until the next listing."""

    def __init__(self) -> None:
        self.threads: list[Thread] | None = None
        self.changed = True

    def seen(self, event: Event) -> None:
        if isinstance(event, ThreadCreated | ThreadExited):
            self.changed = True

    def kept(self) -> list[Thread] | None:
        """The list of the stop before, every thread stopped, if it holds."""
        if self.changed or self.threads is None or len(self.threads) < GROUP_FROM:
            return None
        return list(self.threads)

    def listed(self, threads: Sequence[Thread]) -> None:
        """gdb's own list was read (after the events that changed it); kept without the
        top frames, which hold for that stop only (records are frozen: shared as they are)."""
        self.threads = [dataclasses.replace(t, state="stopped", frame=None) for t in threads]
        self.changed = False

    def forget(self) -> None:
        self.changed = True
