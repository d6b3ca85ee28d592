"""Typed records of what gdb reports: frames, threads, breakpoints, variables...

Each `from_mi` takes the dict pygdbmi made of an MI tuple and tolerates missing
fields, since gdb omits whatever it does not know (no file for a frame without debug
info, no name for a thread that never set one).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, Generic, Literal, TypeVar

T = TypeVar("T")
LWP_PATTERN = re.compile(r"\bLWP (\d+)\b")
REMOTE_THREAD_PATTERN = re.compile(r"\bThread \d+\.(\d+)\b")  # gdbserver: Thread PID.LWP
PROCESS_PATTERN = re.compile(r"\bprocess (\d+)\b")


class GdbError(Exception):
    """Raised only by `Result.unwrap()`, for callers that prefer exceptions."""


@dataclass(frozen=True)
class Result(Generic[T]):
    """What a session command returns: a value, or gdb's error message. Never raises."""

    value: T | None = None
    error: str | None = None

    @property
    def ok(self) -> bool:
        return self.error is None

    def unwrap(self) -> T:
        if self.error is not None:
            raise GdbError(self.error)
        return self.value  # type: ignore[return-value]


def to_int(text: Any, base: int = 10) -> int | None:
    if text is None:
        return None
    try:
        return int(str(text), base)
    except ValueError:
        return None


def to_address(text: Any) -> int | None:
    if text is None:
        return None
    try:
        return int(str(text).split()[0], 0)
    except (ValueError, IndexError):
        return None


def as_list(value: Any) -> list[Any]:
    if value is None:
        return []
    return value if isinstance(value, list) else [value]


@dataclass(frozen=True)
class Variable:
    """A local, an argument, or a child of a struct/array (from a var-object)."""

    name: str
    value: str | None = None
    type: str | None = None
    is_argument: bool = False
    children: tuple[Variable, ...] = ()
    child_count: int = 0
    var_object: str | None = None

    @classmethod
    def from_mi(cls, data: dict[str, Any]) -> Variable:
        return cls(
            name=str(data.get("name", "?")),
            value=data.get("value"),
            type=data.get("type"),
            is_argument=data.get("arg") == "1",
        )


@dataclass(frozen=True)
class Frame:
    level: int
    address: int | None = None
    function: str | None = None
    file: str | None = None
    fullname: str | None = None
    line: int | None = None
    library: str | None = None
    arguments: tuple[Variable, ...] = ()

    @classmethod
    def from_mi(cls, data: dict[str, Any]) -> Frame:
        return cls(
            level=to_int(data.get("level")) or 0,
            address=to_address(data.get("addr")),
            function=data.get("func"),
            file=data.get("file"),
            fullname=data.get("fullname"),
            line=to_int(data.get("line")),
            library=data.get("from"),
            arguments=tuple(
                Variable(str(arg.get("name", "?")), arg.get("value"), arg.get("type"), True)
                for arg in as_list(data.get("args"))
                if isinstance(arg, dict)
            ),
        )

    @property
    def location(self) -> str:
        """`file:line`, or the library, or the address: the best gdb knows."""
        if self.file and self.line is not None:
            return f"{self.file}:{self.line}"
        if self.library:
            return self.library
        return hex(self.address) if self.address is not None else "??"


@dataclass(frozen=True)
class Thread:
    """A thread with its LWP as the debugged process sees it (its PID namespace)."""

    id: int
    target_id: str
    lwp: int | None
    name: str | None
    state: str
    frame: Frame | None = None
    core: int | None = None

    @classmethod
    def from_mi(cls, data: dict[str, Any]) -> Thread:
        target_id = str(data.get("target-id", ""))
        match = (
            LWP_PATTERN.search(target_id)
            or REMOTE_THREAD_PATTERN.search(target_id)
            or PROCESS_PATTERN.search(target_id)
        )
        frame = data.get("frame")
        return cls(
            id=to_int(data.get("id")) or 0,
            target_id=target_id,
            lwp=int(match.group(1)) if match else None,
            name=data.get("name"),
            state=str(data.get("state", "unknown")),
            frame=Frame.from_mi(frame) if isinstance(frame, dict) else None,
            core=to_int(data.get("core")),
        )


WatchAccess = Literal["write", "read", "access"]
CatchKind = Literal[
    "syscall", "signal", "throw", "catch", "rethrow", "fork", "vfork", "exec", "load", "unload"
]
BREAKPOINT_KINDS = {
    "breakpoint": "breakpoint",
    "hw breakpoint": "breakpoint",
    "watchpoint": "watch",
    "hw watchpoint": "watch",
    "read watchpoint": "read watch",
    "acc watchpoint": "access watch",
    "dprintf": "logpoint",
    "catchpoint": "catchpoint",
}


@dataclass(frozen=True)
class Breakpoint:
    """One breakpoint, watchpoint, logpoint (dprintf) or catchpoint, as -break-list has it.

    `what`: a watchpoint's expression, a catchpoint's description ("syscall "write"",
    "exception throw"), a dprintf's format and arguments; `ignore`: how many more hits
    are passed over; `temporary`: deleted at its first stop (tbreak, run to cursor).
    """

    number: str
    type: str
    enabled: bool
    location: str | None = None
    address: int | None = None
    function: str | None = None
    file: str | None = None
    fullname: str | None = None
    line: int | None = None
    condition: str | None = None
    hits: int = 0
    pending: bool = False
    what: str | None = None
    ignore: int = 0
    temporary: bool = False

    @property
    def kind(self) -> str:
        """What the user set: breakpoint, watch, read watch, access watch, logpoint,
        catchpoint (gdb's `type` with hardware and software told apart no more)."""
        return BREAKPOINT_KINDS.get(self.type, self.type)

    @classmethod
    def from_mi(cls, data: dict[str, Any]) -> Breakpoint:
        locations = [loc for loc in as_list(data.get("locations")) if isinstance(loc, dict)]
        first = locations[0] if locations else data
        return cls(
            number=str(data.get("number", "?")),
            type=str(data.get("type", "breakpoint")),
            enabled=data.get("enabled", "y") == "y",
            location=data.get("original-location") or data.get("what"),
            address=to_address(first.get("addr")),
            function=first.get("func"),
            file=first.get("file"),
            fullname=first.get("fullname"),
            line=to_int(first.get("line")),
            condition=data.get("cond"),
            hits=to_int(data.get("times")) or 0,
            pending="pending" in data,
            what=description(data),
            ignore=to_int(data.get("ignore")) or 0,
            temporary=data.get("disp") == "del",
        )


# catchpoints whose `what` is only their argument (a syscall's name, a child's PID...);
# the others' says what they are ("exception throw", "load of library matching ...")
CATCH_WHAT_IS_ARGUMENT = {"syscall", "signal", "fork", "vfork", "exec"}


def first(value: Any) -> Any:
    """A field gdb printed twice in one record (a watchpoint's `reason`, `value`...) is a
    list in pygdbmi's dict: its first."""
    return value[0] if isinstance(value, list) and value else value


def description(data: dict[str, Any]) -> str | None:
    """A breakpoint's `what`: a watchpoint's expression, a dprintf's format and
    arguments (from its `printf` script), a catchpoint's kind and what gdb says of it
    ("syscall write", "signal SIGUSR1", "fork", "exec /app/threads")."""
    what = data.get("what") or data.get("exp")
    if data.get("type") == "dprintf":
        script = [line for line in as_list(data.get("script")) if isinstance(line, str)]
        printf = next((line for line in script if line.startswith("printf ")), None)
        return printf.removeprefix("printf ") if printf else what
    kind = data.get("catch-type")
    if data.get("type") != "catchpoint" or not kind:
        return what
    if kind in CATCH_WHAT_IS_ARGUMENT:
        return f"{kind} {what}" if what else str(kind)
    return f"{what} matching {data['regexp']}" if data.get("regexp") else what


@dataclass(frozen=True)
class SharedLibrary:
    """A loaded object: `path` as the process names it, `host_path` where gdb read it."""

    path: str
    host_path: str
    symbols_loaded: bool
    ranges: tuple[tuple[int, int], ...] = ()

    @classmethod
    def from_mi(cls, data: dict[str, Any]) -> SharedLibrary:
        ranges = []
        for item in as_list(data.get("ranges")):
            start, end = to_address(item.get("from")), to_address(item.get("to"))
            if start is not None and end is not None:
                ranges.append((start, end))
        if not ranges:
            start, end = to_address(data.get("from")), to_address(data.get("to"))
            if start is not None and end is not None:
                ranges.append((start, end))
        return cls(
            path=str(data.get("target-name") or data.get("id") or "?"),
            host_path=str(data.get("host-name") or data.get("target-name") or "?"),
            symbols_loaded=data.get("symbols-loaded") == "1",
            ranges=tuple(ranges),
        )


@dataclass(frozen=True)
class Register:
    number: int
    name: str
    value: str


@dataclass(frozen=True)
class Instruction:
    """One machine instruction; with mixed source, the source line it belongs to
    (`line` in `fullname`, as gdb names the file; None where there is no line info)."""

    address: int
    function: str | None
    offset: int | None
    text: str
    opcodes: str | None = None
    line: int | None = None
    file: str | None = None
    fullname: str | None = None

    @classmethod
    def from_mi(cls, data: dict[str, Any]) -> Instruction:
        return cls(
            address=to_address(data.get("address")) or 0,
            function=data.get("func-name"),
            offset=to_int(data.get("offset")),
            text=str(data.get("inst", "")),
            opcodes=data.get("opcodes"),
        )


@dataclass(frozen=True)
class MemoryBlock:
    address: int
    data: bytes


@dataclass(frozen=True)
class ObjectSymbols:
    """The symbol report line of one loaded object.

    `status`: "debug-info" (full debug info), "symbols" (a symbol table, no debug info),
    "dynamic" (only exported symbols), "unreadable" (the file itself is missing).
    `source`: where the debug info/symbols came from ("embedded", or a debug file path
    as gdb names it). `problem` and `fix` are set when debug info is missing.
    """

    path: str
    gdb_path: str
    build_id: str | None
    status: str
    source: str | None
    loaded_by_gdb: bool | None
    problem: str | None = None
    fix: str | None = None
