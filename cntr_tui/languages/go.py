"""Goroutines of a Go program, read through the gdb session already attached to it.

    binary = go_binary(process_executable(host_pid))   # None: not a Go program
    stacks = await list_goroutines(session, binary)    # LanguageStacks(language="go")
    frames = await goroutine_stack(session, binary, stacks.goroutines[0].id)

The Go runtime's own gdb support (the host's `runtime-gdb.py` of the binary's Go
release) is sourced into the session once, then a small helper (go_gdb_script) lists
the goroutines from the runtime's `allgs`. Delve was measured beside it and ruled out:
only one tracer can attach and gdb already is it (`dlv attach` while our gdb traces:
"could not attach to pid N: operation not permitted"). The program must be stopped
(gdb reads no memory of a running process in all-stop mode). Whatever goes wrong is
one `missing` line (or a failed Result), never an exception.
"""

from __future__ import annotations

import contextlib
import os
import posixpath
from dataclasses import replace
from pathlib import Path
from typing import Protocol

from cntr_tui.gdb.placement import Placement
from cntr_tui.gdb.records import Frame, Result
from cntr_tui.gdb.symbols import source_directory_rules
from cntr_tui.languages.go_binary import GoBinary, read_go_binary
from cntr_tui.languages.go_gdb_script import install_command, list_command, stack_command
from cntr_tui.languages.go_output import (
    HelperOutputError,
    ReadGoroutine,
    goroutine_record,
    read_goroutines,
)
from cntr_tui.languages.go_runtime_support import find_runtime_gdb, missing_support
from cntr_tui.languages.records import LanguageStacks
from cntr_tui.linux.proc_status import pid_in_namespace

LANGUAGE = "go"
FRAMES_EACH = 64  # per goroutine in the list: enough to reach the first non-runtime one
STACK_LIMIT = 512
LOADED_CHECK = (
    "python print('cntr-go-loaded' if 'find_goroutine' in globals() "
    "and '_cntr_go' in globals() else 'cntr-go-absent')"
)


class ConsoleSession(Protocol):
    """What this needs of a gdb session (GdbSession has it)."""

    state: str
    pid: int | None  # the process as gdb sees it
    target_host_pid: int | None  # as the host does

    async def cli(self, command: str) -> Result[str]: ...

    @property
    def placement(self) -> Placement: ...

    def resolve_frame(self, frame: Frame) -> Frame: ...


def process_executable(host_pid: int) -> Path:
    """The program file of a process as the host reads it (through its root)."""
    return Path(f"/proc/{host_pid}/exe")


def go_binary(executable: str | Path) -> GoBinary | None:
    """The Go facts of an executable (a merged-root path or /proc/PID/exe); None when it
    is not a Go program."""
    return read_go_binary(executable)


async def load_support(session: ConsoleSession, binary: GoBinary) -> str | None:
    """Source runtime-gdb.py and the helper into the session unless done; the reason
    when they cannot be."""
    script = find_runtime_gdb(binary)
    if not binary.has_dwarf or not binary.x86_64 or script is None:
        return missing_support(binary)
    if session.state != "stopped":
        return f"the program is {session.state}: goroutines are read while it is stopped"
    checked = await session.cli(LOADED_CHECK)
    if checked.ok and "cntr-go-loaded" in (checked.value or ""):
        return None
    for command in (f"source {script}", install_command()):
        loaded = await session.cli(command)
        if not loaded.ok:
            return f"gdb could not load {script}: {loaded.error}"
    return None


async def list_goroutines(session: ConsoleSession, binary: GoBinary) -> LanguageStacks:
    """Every live goroutine: id, state, wait reason, the function it is known by (its
    innermost frame in the program's own code, see go_output.shown_frame) with
    file:line, and the OS thread running it (the program's own TID) when there is one."""
    missing = await load_support(session, binary)
    if missing is not None:
        return LanguageStacks(LANGUAGE, binary.version, missing=missing)
    listed = await session.cli(list_command(FRAMES_EACH, own_tids(session)))
    if not listed.ok:
        return LanguageStacks(LANGUAGE, binary.version, missing=helper_failed(listed.error))
    try:
        goroutines = read_goroutines(listed.value or "")
    except HelperOutputError as error:
        return LanguageStacks(LANGUAGE, binary.version, missing=helper_failed(str(error)))
    seen: dict[Frame, Frame] = {}
    records = tuple(goroutine_record(resolved(session, g, seen)) for g in goroutines)
    return LanguageStacks(LANGUAGE, binary.version, goroutines=records)


async def goroutine_stack(
    session: ConsoleSession, binary: GoBinary, goroutine_id: int
) -> Result[tuple[Frame, ...]]:
    """One goroutine's frames, innermost first (runtime frames included); an error
    Result when it cannot be read or there is no such goroutine."""
    missing = await load_support(session, binary)
    if missing is not None:
        return Result(error=missing)
    listed = await session.cli(stack_command(goroutine_id, STACK_LIMIT, own_tids(session)))
    if not listed.ok:
        return Result(error=helper_failed(listed.error))
    try:
        goroutines = read_goroutines(listed.value or "")
    except HelperOutputError as error:
        return Result(error=helper_failed(str(error)))
    if not goroutines:
        return Result(error=f"no goroutine {goroutine_id} (it may have ended)")
    return Result(resolved(session, goroutines[0], {}).frames)


def own_tids(session: ConsoleSession) -> dict[int, int]:
    """gdb's LWP -> the program's own TID (what the Go runtime records as m.procid), when
    gdb sees the host's TIDs (the host's gdb, for a program in its own PID namespace);
    empty when gdb runs in the program's PID namespace, where they are the same."""
    host_pid = session.target_host_pid
    if host_pid is None or session.pid != host_pid:
        return {}
    tids = {}
    try:
        for task in os.listdir(f"/proc/{host_pid}/task"):
            with contextlib.suppress(OSError, ValueError, IndexError):
                tids[int(task)] = pid_in_namespace(int(task))
    except OSError:
        return {}
    return {host: own for host, own in tids.items() if host != own}


def resolved(
    session: ConsoleSession, goroutine: ReadGoroutine, seen: dict[Frame, Frame]
) -> ReadGoroutine:
    """Its frames with their sources where gdb reads them; `seen`: the frames placed so
    far (goroutines share theirs)."""
    for frame in goroutine.frames:
        if frame not in seen:
            seen[frame] = located(session, frame)
    return replace(goroutine, frames=tuple(seen[frame] for frame in goroutine.frames))


def located(session: ConsoleSession, frame: Frame) -> Frame:
    """A frame's source as the session places its threads' frames: its substitute-path
    rules, or the folder's copy in the container (/app/src/x.go -> /var/lib/cntr/app/
    src/x.go in an attach session), which gdb itself finds only once it has a rule."""
    frame = session.resolve_frame(frame)
    if not frame.fullname or not frame.fullname.startswith("/"):
        return frame
    folder = posixpath.dirname(frame.fullname)
    rules = source_directory_rules(session.placement, {folder})
    if not rules:
        return frame
    recorded, actual = rules[0]
    return replace(frame, fullname=actual + frame.fullname[len(recorded) :])


def helper_failed(error: str | None) -> str:
    return (
        f"reading goroutines failed in gdb: {error or 'no reason given'}; the Go release's "
        "runtime structures may differ from what runtime-gdb.py expects"
    )
