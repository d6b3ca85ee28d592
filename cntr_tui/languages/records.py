"""Records of a program's language-level stacks (Python frames, Go goroutines)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class LanguageVariable:
    name: str
    value: str  # the value's repr, as the language shows it
    argument: bool = False


@dataclass(frozen=True)
class LanguageFrame:
    """One frame of the language's own stack.

    `entry`: the outermost frame run by one native call of the interpreter's loop
    (CPython's `_PyEval_EvalFrameDefault`); frames up to the next entry belong to the
    same native frame. `locals` is None where they were not asked for.
    """

    function: str
    file: str | None
    line: int | None
    entry: bool = False
    locals: tuple[LanguageVariable, ...] | None = None


@dataclass(frozen=True)
class LanguageThread:
    """An OS thread's language stack, innermost frame first.

    `host_tid` is the thread as the host sees it; `lwp` as the program's PID namespace
    does (what gdb inside the container calls it), when known.
    """

    host_tid: int
    lwp: int | None
    name: str | None
    frames: tuple[LanguageFrame, ...]
    holds_lock: bool = False  # CPython: holds the GIL


@dataclass(frozen=True)
class Goroutine:
    """A Go goroutine; `lwp` is the OS thread running it, None when it is not running."""

    id: int
    state: str
    wait_reason: str | None
    function: str
    file: str | None
    line: int | None
    lwp: int | None = None


@dataclass(frozen=True)
class LanguageStacks:
    """What the language library read of one process.

    `language` is None for a program of no supported language; `missing` is one line
    saying why language frames are missing and what would fix it, None when they were
    read (or when the program is plain native code, where nothing is missing).
    """

    language: str | None
    version: str | None = None
    threads: tuple[LanguageThread, ...] = ()
    goroutines: tuple[Goroutine, ...] = ()
    missing: str | None = None
    pause_ms: float | None = None  # the language library's own read, where it stops nothing
    reader: str | None = None  # the library that read them, with its version

    def thread(self, lwp: int | None) -> LanguageThread | None:
        return next((t for t in self.threads if lwp is not None and t.lwp == lwp), None)
