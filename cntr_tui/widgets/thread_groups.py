"""Threads grouped by stack, for the threads pane of a program with many threads.

A thread whose backtrace was read is grouped by its whole stack (the functions,
innermost first); one whose backtrace is not read yet by its top frame alone, marked
as such (the pane reads the members' stacks when the group is opened, and the group
splits by whole stack then); one whose top frame is not known either (the thread list
kept from the stop before, ThreadRoster) by its name with the digits as `#`
("998 threads named worker-#"). Records and pure functions only: no widget here.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from cntr_tui.gdb.records import Frame, Thread

# Below this many threads the pane lists them one by one, as before.
GROUP_FROM = 32
TITLE_FUNCTIONS = 3  # of a group's stack, in its title
DIGITS = re.compile(r"\d+")


@dataclass(frozen=True)
class ThreadGroup:
    """Threads with the same stack: `stack` the functions innermost first; `whole` when
    it is every member's whole backtrace, False when only their top frame is known."""

    stack: tuple[str, ...]
    threads: tuple[Thread, ...]
    whole: bool
    name: str | None = None  # grouped by this name (digits as #): no frame known

    @property
    def ids(self) -> tuple[int, ...]:
        return tuple(thread.id for thread in self.threads)

    def title(self) -> str:
        """ "412 threads in epoll_wait <- event_loop <- worker_main" """
        count = len(self.threads)
        plural = "s" if count != 1 else ""
        if self.name is not None:
            return f"{count} thread{plural} named {self.name} (stacks not read yet)"
        shown = " <- ".join(self.stack[:TITLE_FUNCTIONS]) or "?"
        more = " <- …" if len(self.stack) > TITLE_FUNCTIONS else ""
        known = "" if self.whole else " (top frame; stacks not read yet)"
        return f"{count} thread{plural} in {shown}{more}{known}"


def functions(frames: Sequence[Frame]) -> tuple[str, ...]:
    return tuple(frame.function or "??" for frame in frames)


def group_threads(
    threads: Sequence[Thread], stacks: Mapping[int, Sequence[Frame]]
) -> list[ThreadGroup]:
    """Every thread in exactly one group; the largest groups first, then in the order
    of their first thread."""
    members: dict[tuple[bool, tuple[str, ...], str | None], list[Thread]] = {}
    for thread in threads:
        stack = stacks.get(thread.id)
        if stack is not None:
            key = (True, functions(stack), None)
        elif thread.frame is not None:
            key = (False, (thread.frame.function or "??",), None)
        else:
            key = (False, (), name_pattern(thread.name))
        members.setdefault(key, []).append(thread)
    ordered = sorted(members.items(), key=lambda item: -len(item[1]))
    return [
        ThreadGroup(stack, tuple(group), whole, name) for (whole, stack, name), group in ordered
    ]


def name_pattern(name: str | None) -> str:
    """ "worker-17" -> "worker-#": the threads of one pool share it."""
    return DIGITS.sub("#", name) if name else "-"


def thread_matches(thread: Thread, stack: Sequence[Frame] | None, text: str) -> bool:
    """The pane's filter: `text` (case-insensitive unless it has a capital) in the
    thread's number, name, state, or any known frame's function."""
    if not text:
        return True
    folded = text.lower() == text
    fields = [str(thread.id), thread.name or "", thread.state]
    fields += [frame.function or "" for frame in stack or ()]
    if thread.frame is not None and not stack:
        fields.append(thread.frame.function or "")
    return any(text in (field.lower() if folded else field) for field in fields)
