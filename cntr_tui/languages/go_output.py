"""The gdb helper's output (one `cntr-go: ` line of JSON, see go_gdb_script) -> records:
`Goroutine`s for the list, `Frame`s for one goroutine's stack."""

from __future__ import annotations

import json
from dataclasses import dataclass, replace
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


def helper_payload(console: str) -> dict[str, Any]:
    for line in console.splitlines():
        if line.startswith(MARKER):
            try:
                payload = json.loads(line[len(MARKER) :])
            except json.JSONDecodeError as error:
                raise HelperOutputError(
                    f"the goroutine helper's line is not JSON: {error}"
                ) from error
            if isinstance(payload, dict):
                return payload
            raise HelperOutputError("the goroutine helper's line is not an object")
    last = console.strip().splitlines()[-1:] or ["nothing"]
    raise HelperOutputError(f"the goroutine helper printed no listing: {last[0][:200]}")


def optional_int(value: object) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def optional_str(value: object) -> str | None:
    return value if isinstance(value, str) and value else None


def place_frame(row: object) -> Frame:
    """A row of `places`, [pc, function, file, fullname, line], as a Frame (level 0)."""
    if not isinstance(row, list) or len(row) != 5:
        raise HelperOutputError(f"a place that is not [pc, function, file, fullname, line]: {row}")
    pc, function, file, fullname, line = row
    return Frame(
        level=0,
        address=optional_int(pc),
        function=optional_str(function),
        file=optional_str(file),
        fullname=optional_str(fullname),
        line=optional_int(line),
    )


def goroutine_of(
    row: object, places: list[Frame], made: dict[tuple[int, int], Frame]
) -> ReadGoroutine:
    """A row of `goroutines`, [id, state, wait reason, lwp, [place index, ...]]."""
    if not isinstance(row, list) or len(row) != 5 or optional_int(row[0]) is None:
        raise HelperOutputError(f"a goroutine that is not [id, state, reason, lwp, frames]: {row}")
    goid, state, reason, lwp, indexes = row
    if not isinstance(indexes, list) or not all(
        isinstance(i, int) and 0 <= i < len(places) for i in indexes
    ):
        raise HelperOutputError(f"goroutine {goid}'s frames are not indexes of places: {indexes}")
    return ReadGoroutine(
        id=goid,
        state=optional_str(state) or "unknown",
        wait_reason=optional_str(reason),
        lwp=optional_int(lwp),
        frames=tuple(framed(places, i, level, made) for level, i in enumerate(indexes)),
    )


def framed(
    places: list[Frame], index: int, level: int, made: dict[tuple[int, int], Frame]
) -> Frame:
    """Place `index` at `level`, made once: goroutines parked alike share their frames."""
    key = (index, level)
    if key not in made:
        made[key] = replace(places[index], level=level)
    return made[key]


def read_goroutines(console: str) -> list[ReadGoroutine]:
    """Every goroutine of the helper's line in `console` (HelperOutputError if none)."""
    payload = helper_payload(console)
    places, goroutines = payload.get("places"), payload.get("goroutines")
    if not isinstance(places, list) or not isinstance(goroutines, list):
        raise HelperOutputError("the goroutine helper's line lacks places or goroutines")
    frames = [place_frame(row) for row in places]
    made: dict[tuple[int, int], Frame] = {}
    return [goroutine_of(row, frames, made) for row in goroutines]


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
