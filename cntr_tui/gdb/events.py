"""Typed events a GdbSession emits, made from gdb's async and stream records."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

from cntr_tui.gdb.records import Breakpoint, Frame, SharedLibrary, first, to_int
from cntr_tui.gdb.transport import MiRecord

EndKind = Literal[
    "detached", "inferior-exited", "gdb-exited", "container-stopped", "file-server-lost", "closed"
]


@dataclass(frozen=True)
class Stopped:
    """`*stopped`: `thread_id` is the thread that stopped (the selected one after it)."""

    reason: str
    thread_id: int | None
    frame: Frame | None
    all_threads: bool
    signal_name: str | None = None
    breakpoint_number: str | None = None
    exit_code: int | None = None
    detail: str | None = None
    """What else the stop says, for the status line: a watchpoint's old and new value
    ("3 -> 4"), a syscall catchpoint's call ("write"), a fork's child PID, an exec's
    new program."""


@dataclass(frozen=True)
class Paused:
    """The engine stopped the running program for a change of its own (`reason`: a
    "breakpoint" set while it ran, a "console command" changing breakpoints) and
    resumed it; `seconds` it was held."""

    reason: str
    seconds: float


@dataclass(frozen=True)
class Running:
    """`*running`: `thread_id` None means every thread."""

    thread_id: int | None


@dataclass(frozen=True)
class ThreadCreated:
    thread_id: int


@dataclass(frozen=True)
class ThreadExited:
    thread_id: int


@dataclass(frozen=True)
class LibraryLoaded:
    library: SharedLibrary


@dataclass(frozen=True)
class LibraryUnloaded:
    path: str


@dataclass(frozen=True)
class BreakpointCreated:
    breakpoint: Breakpoint


@dataclass(frozen=True)
class BreakpointModified:
    breakpoint: Breakpoint


@dataclass(frozen=True)
class BreakpointDeleted:
    number: str


@dataclass(frozen=True)
class ConsoleOutput:
    text: str


@dataclass(frozen=True)
class TargetOutput:
    text: str


@dataclass(frozen=True)
class LogOutput:
    text: str


@dataclass(frozen=True)
class SessionEnded:
    """The end of the session: nothing more will follow. `reason` is for people."""

    kind: EndKind
    reason: str


Event = (
    Stopped
    | Paused
    | Running
    | ThreadCreated
    | ThreadExited
    | LibraryLoaded
    | LibraryUnloaded
    | BreakpointCreated
    | BreakpointModified
    | BreakpointDeleted
    | ConsoleOutput
    | TargetOutput
    | LogOutput
    | SessionEnded
)


WATCHPOINT_FIELDS = ("wpt", "hw-rwpt", "hw-awpt")


def stopped_from_mi(payload: dict[str, Any]) -> Stopped:
    """A `*stopped` record. gdb prints a read or access watchpoint's fields twice in one
    record (pygdbmi makes each a list): the first is taken."""
    frame = first(payload.get("frame"))
    stopped = payload.get("stopped-threads", "all")
    watchpoint = next((first(payload[key]) for key in WATCHPOINT_FIELDS if key in payload), None)
    number = first(payload.get("bkptno")) or payload.get("wpnum")  # wpnum: watchpoint-scope
    if number is None and isinstance(watchpoint, dict):
        number = watchpoint.get("number")
    return Stopped(
        reason=str(first(payload.get("reason")) or "unknown"),
        thread_id=to_int(payload.get("thread-id")),
        frame=Frame.from_mi(frame) if isinstance(frame, dict) else None,
        all_threads=stopped == "all",
        signal_name=payload.get("signal-name"),
        breakpoint_number=number,
        exit_code=to_int(payload.get("exit-code"), 8),
        detail=stop_detail(payload),
    )


def stop_detail(payload: dict[str, Any]) -> str | None:
    """A watchpoint's value ("old -> new" when written), a syscall's name, a fork's
    child PID, an exec's new program."""
    value = first(payload.get("value"))
    if isinstance(value, dict):
        if "old" in value and "new" in value:
            return f"{value['old']} -> {value['new']}"
        return value.get("new") or value.get("value") or value.get("old")
    for key in ("syscall-name", "syscall-number", "newpid", "new-exec"):
        if key in payload:
            return str(first(payload[key]))
    return None


def event_from_record(record: MiRecord) -> Event | None:
    """The typed event for an async or stream record; None for the rest."""
    payload = record.payload if isinstance(record.payload, dict) else {}
    match record.kind, record.klass:
        case "exec", "stopped":
            return stopped_from_mi(payload)
        case "exec", "running":
            thread = payload.get("thread-id", "all")
            return Running(None if thread == "all" else to_int(thread))
        case "notify", "thread-created":
            return ThreadCreated(to_int(payload.get("id")) or 0)
        case "notify", "thread-exited":
            return ThreadExited(to_int(payload.get("id")) or 0)
        case "notify", "library-loaded":
            return LibraryLoaded(SharedLibrary.from_mi(payload))
        case "notify", "library-unloaded":
            return LibraryUnloaded(str(payload.get("target-name") or payload.get("id")))
        case "notify", "breakpoint-created":
            return BreakpointCreated(Breakpoint.from_mi(payload.get("bkpt", {})))
        case "notify", "breakpoint-modified":
            return BreakpointModified(Breakpoint.from_mi(payload.get("bkpt", {})))
        case "notify", "breakpoint-deleted":
            return BreakpointDeleted(str(payload.get("id")))
        case "console", _:
            return ConsoleOutput(str(record.payload))
        case "target", _:
            return TargetOutput(str(record.payload))
        case "log", _:
            return LogOutput(str(record.payload))
    return None
