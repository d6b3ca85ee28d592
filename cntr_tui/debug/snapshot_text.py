"""A snapshot as text: the first line says how long the program was stopped, threads
with identical stacks are grouped ("12 threads in nanosleep <- spin <- worker_main"),
language frames stand among the native ones with the interpreter's plumbing counted,
a Go program's goroutines are grouped by where they wait. `cntr-tui snapshot` prints
it; the TUI's snapshot screen shows it."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from cntr_tui.debug.snapshot import Snapshot, SnapshotFrame, StackGroup
    from cntr_tui.languages.records import Goroutine

SHOWN_MEMBERS = 8  # of a group's threads, by name; the rest counted


KERNEL_TRACER = "kernel"  # a core's manifest names the kernel as its writer


def frame_text(frame: SnapshotFrame) -> str:
    where = f" at {frame.file}:{frame.line}" if frame.file and frame.line is not None else ""
    library = f" ({frame.library})" if frame.library else ""
    level = f"#{frame.level:<2}" if frame.level is not None else f"{frame.language[:2]:<3}"
    return f"{level} {frame.name}{where}{library}"


def shown_frames(frames: Sequence[SnapshotFrame]) -> list[SnapshotFrame | int]:
    """The frames a reader wants: where language frames stand among the native ones, the
    interpreter's plumbing between them is counted, not listed (--json keeps all)."""
    from cntr_tui.languages.interleave import is_interpreter_plumbing, plumbing_counted

    if all(frame.language == "native" for frame in frames):
        return list(frames)
    return plumbing_counted(
        frames,
        lambda f: f.language == "native" and is_interpreter_plumbing(f.function, f.library),
    )


def plumbing_text(count: int) -> str:
    return f"    ({count} interpreter frame{'s' if count != 1 else ''})"


def member_names(group: StackGroup) -> str:
    shown = [f'{t.id} "{t.name}"' if t.name else str(t.id) for t in group.threads]
    more = len(shown) - SHOWN_MEMBERS
    return ", ".join(shown[:SHOWN_MEMBERS]) + (f", … {more} more" if more > 0 else "")


def group_lines(group: StackGroup, with_locals: bool) -> Iterator[str]:
    count = len(group.threads)
    shown = shown_frames(group.frames)
    chain = " <- ".join(f.name for f in shown if not isinstance(f, int)) or "no frames"
    partial = "" if group.threads[0].complete else " (top frame only: not read)"
    yield f"{count} thread{'s' if count != 1 else ''} in {chain}{partial}"
    yield f"  threads: {member_names(group)}"
    for frame in shown:
        yield plumbing_text(frame) if isinstance(frame, int) else f"  {frame_text(frame)}"
    if with_locals:
        for thread in group.threads:
            for frame in thread.frames:
                if frame.locals is None:
                    continue
                values = ", ".join(f"{v.name} = {v.value}" for v in frame.locals) or "none"
                level = f"#{frame.level}" if frame.level is not None else frame.language
                yield f"    thread {thread.id} {level} {frame.name}: {values}"


def snapshot_text(snapshot: Snapshot, with_locals: bool = False) -> list[str]:
    from cntr_tui.debug.snapshot import group_stacks

    target = snapshot.target
    threads = len(snapshot.threads)
    budget = f" (budget {snapshot.budget_ms:g} ms)" if snapshot.budget_ms is not None else ""
    counted = f"{threads} thread{'s' if threads != 1 else ''}"
    where = f"{target.label}, process {target.namespace_pid} (host PID {target.host_pid})"
    if snapshot.core is not None and snapshot.tracer == KERNEL_TRACER:
        where = f"{target.label}, process {target.namespace_pid}"
        first = f"{where}: {counted}; the kernel wrote the core when the process crashed"
    elif snapshot.core is not None:
        first = f"{where}: {counted}; the core was taken in a {snapshot.pause_ms:.1f} ms stop"
    else:
        first = f"{where}: {counted}, stopped for {snapshot.pause_ms:.1f} ms{budget}, "
        if snapshot.left_stopped:
            first += "left stopped (SIGSTOP) as it was before, untraced"
        else:
            first += "running again untraced"
    lines = [first]
    language = snapshot.language
    if language is not None and language.missing:
        lines.append(language.missing)
    if language is not None and language.goroutines:
        lines.append("")
        lines.extend(goroutine_lines(language.goroutines))
    for group in group_stacks(snapshot.threads):
        lines.append("")
        lines.extend(group_lines(group, with_locals))
    if snapshot.missing:
        lines.append("")
        lines.append(f"missing (the pause budget ran out): {missing_text(snapshot)}")
    return lines


def goroutine_lines(goroutines: Sequence[Goroutine]) -> Iterator[str]:
    """Goroutines grouped by where they are and why: "3 goroutines waiting (chan
    receive) in main.worker at worker.go:30: 5, 6, 9"."""
    groups: dict[tuple[object, ...], list[int]] = {}
    for g in goroutines:
        groups.setdefault((g.state, g.wait_reason, g.function, g.file, g.line), []).append(g.id)
    yield f"{len(goroutines)} goroutine{'s' if len(goroutines) != 1 else ''}:"
    for (state, reason, function, file, line), ids in groups.items():
        why = f" ({reason})" if reason else ""
        where = f" at {str(file).rsplit('/', 1)[-1]}:{line}" if file and line else ""
        shown = ", ".join(str(i) for i in ids[:SHOWN_MEMBERS])
        more = f", … {len(ids) - SHOWN_MEMBERS} more" if len(ids) > SHOWN_MEMBERS else ""
        yield f"  {len(ids)} {state}{why} in {function}{where}: {shown}{more}"


def missing_text(snapshot: Snapshot) -> str:
    stacks = sum(1 for t in snapshot.threads if not t.complete)
    locals_ = len(snapshot.missing) - stacks
    parts = [f"the stacks of {stacks} thread(s)"] if stacks else []
    parts += [f"the locals of {locals_} frame(s)"] if locals_ else []
    return ", ".join(parts)
