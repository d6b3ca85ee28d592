"""The gdb helper's output (one `cntr-go: ` line of JSON, see go_gdb_script) -> records:
`Goroutine`s for the list, `Frame`s for one goroutine's stack."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from cntr_tui.gdb.records import Frame
from cntr_tui.languages.go_gdb_script import MARKER
from cntr_tui.languages.records import Goroutine

RUNTIMES = ("runtime.", "runtime/internal/")
GOEXIT = "runtime.goexit"


class HelperOutputError(ValueError):
    """The console output held no helper line, or one that is not what it writes."""


@dataclass(frozen=True)
class ReadGoroutine:
    """One goroutine as the helper read it, its frames innermost first."""

    id: int
    state: str
    wait_reason: str | None
    lwp: int | None
    frames: tuple[Frame, ...]


def helper_payload(console: str) -> list[Any]:
    for line in console.splitlines():
        if line.startswith(MARKER):
            try:
                payload = json.loads(line[len(MARKER) :])
            except json.JSONDecodeError as error:
                raise HelperOutputError(
                    f"the goroutine helper's line is not JSON: {error}"
                ) from error
            if isinstance(payload, list):
                return payload
            raise HelperOutputError("the goroutine helper's line is not a list")
    last = console.strip().splitlines()[-1:] or ["nothing"]
    raise HelperOutputError(f"the goroutine helper printed no listing: {last[0][:200]}")


def optional_int(value: object) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def optional_str(value: object) -> str | None:
    return value if isinstance(value, str) and value else None


def frame_of(level: int, data: dict[str, Any]) -> Frame:
    return Frame(
        level=level,
        address=optional_int(data.get("pc")),
        function=optional_str(data.get("function")),
        file=optional_str(data.get("file")),
        fullname=optional_str(data.get("fullname")),
        line=optional_int(data.get("line")),
    )


def read_goroutines(console: str) -> list[ReadGoroutine]:
    """Every goroutine of the helper's line in `console` (HelperOutputError if none)."""
    listed = []
    for item in helper_payload(console):
        if not isinstance(item, dict) or optional_int(item.get("id")) is None:
            raise HelperOutputError(f"a goroutine without an id: {str(item)[:100]}")
        frames = item.get("frames") if isinstance(item.get("frames"), list) else []
        listed.append(
            ReadGoroutine(
                id=item["id"],
                state=optional_str(item.get("state")) or "unknown",
                wait_reason=optional_str(item.get("reason")),
                lwp=optional_int(item.get("lwp")),
                frames=tuple(
                    frame_of(level, f) for level, f in enumerate(frames) if isinstance(f, dict)
                ),
            )
        )
    return listed


def package_of(function: str) -> str:
    """The package of a function: os/signal.signal_recv -> os/signal, a.com/b.(*T).M -> a.com/b."""
    slash = function.rfind("/")
    dot = function.find(".", slash + 1)
    return function[:dot] if dot >= 0 else function


def in_runtime(frame: Frame) -> bool:
    return frame.function is None or frame.function.startswith(RUNTIMES)


def in_standard_library(frame: Frame) -> bool:
    """Go's rule: a standard package's path has no dot in its first element (main is
    the program's own)."""
    if frame.function is None:
        return True
    package = package_of(frame.function)
    return package != "main" and "." not in package.split("/")[0]


def shown_frame(frames: tuple[Frame, ...]) -> Frame | None:
    """The frame a goroutine is known by: its innermost in the program's own code
    (main.sleeper, not runtime.gopark or time.Sleep); for a goroutine of the standard
    library its innermost outside the runtime (os/signal.signal_recv); for the
    runtime's own, their outermost before runtime.goexit (runtime.bgsweep)."""
    for outside in (in_standard_library, in_runtime):
        found = next((frame for frame in frames if not outside(frame)), None)
        if found is not None:
            return found
    started = [frame for frame in frames if frame.function and frame.function != GOEXIT]
    return started[-1] if started else (frames[0] if frames else None)


def goroutine_record(read: ReadGoroutine) -> Goroutine:
    frame = shown_frame(read.frames)
    return Goroutine(
        id=read.id,
        state=read.state,
        wait_reason=read.wait_reason,
        function=(frame.function if frame else None) or "??",
        file=(frame.fullname or frame.file) if frame else None,
        line=frame.line if frame else None,
        lwp=read.lwp,
    )
