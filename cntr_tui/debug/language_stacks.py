"""A debug session's language frames: which language the program is (found once, from
its files), and its stacks read the way that language needs: py-spy beside gdb for
CPython, the Go runtime's gdb support inside the attached gdb for goroutines.

Asked while the program is stopped (the debugger screen after a stop, the snapshot
within its pause); a native program answers `LanguageStacks(None)`, with nothing missing.
"""

from __future__ import annotations

import time
from dataclasses import replace
from typing import TYPE_CHECKING

from cntr_tui.gdb.records import Frame, Result
from cntr_tui.languages.go import go_binary, goroutine_stack, list_goroutines, process_executable
from cntr_tui.languages.python import (
    interpreter_version,
    is_python_process,
    read_python_stacks,
)
from cntr_tui.languages.records import LanguageStacks

if TYPE_CHECKING:
    from cntr_tui.gdb.session import GdbSession
    from cntr_tui.languages.go_binary import GoBinary

NATIVE = LanguageStacks(None)
GO_READER = "gdb with the Go runtime's runtime-gdb.py"


class LanguageStackReader:
    """Found once per session: `language` is "python", "go" or None."""

    def __init__(self, host_pid: int) -> None:
        self.host_pid = host_pid
        self.go: GoBinary | None = None
        self.language: str | None = None
        self.python_version: str | None = None
        if is_python_process(host_pid):
            self.language = "python"
            self.python_version = interpreter_version(host_pid)  # before any stop
        else:
            self.go = go_binary(process_executable(host_pid))
            self.language = "go" if self.go is not None else None

    async def stacks(self, gdb: GdbSession, with_locals: bool = False) -> LanguageStacks:
        if self.language == "python":
            return await read_python_stacks(self.host_pid, with_locals, self.python_version)
        if self.go is not None:
            started = time.perf_counter()
            stacks = await list_goroutines(gdb, self.go)
            ms = (time.perf_counter() - started) * 1000
            return replace(stacks, reader=GO_READER, pause_ms=ms)
        return NATIVE

    async def goroutine_stack(
        self, gdb: GdbSession, goroutine_id: int
    ) -> Result[tuple[Frame, ...]]:
        if self.go is None:
            return Result(error="not a Go program: it has no goroutines")
        return await goroutine_stack(gdb, self.go, goroutine_id)
