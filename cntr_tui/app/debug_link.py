"""The debugger screen's hold on its debug session: none until the opener returns one;
then every engine call goes through `ask`, and the close runs once, whoever asks."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import TypeVar

from cntr_tui.debug.protocol import (
    DebugEngine,
    DebugOpener,
    DebugSession,
    Progress,
    SourceText,
)
from cntr_tui.debug.target import DebugTarget, ForkOptions
from cntr_tui.gdb.records import Frame, Result
from cntr_tui.languages.records import LanguageStacks

T = TypeVar("T")
EngineCall = Callable[[DebugEngine], Awaitable[Result[T]]]


class DebugLink:
    def __init__(self, opener: DebugOpener) -> None:
        self.opener = opener
        self.session: DebugSession | None = None
        self.closing: asyncio.Future[None] | None = None
        self.sources: dict[str, SourceText] = {}
        self.forks = ForkOptions()  # what gdb does at the program's forks, once open

    async def open(self, target: DebugTarget, progress: Progress) -> DebugSession:
        """Raises DebugUnavailable (from the opener) when no session can be opened."""
        self.session = await self.opener(target, progress)
        self.forks = self.session.target.forks
        return self.session

    async def toggle_follow_fork(self) -> Result[ForkOptions]:
        """gdb follows the other side of the program's next fork (follow-fork-mode
        parent <-> child; a setting gdb takes while the program runs too)."""
        wanted = self.forks.toggled()
        done = await self.ask(lambda engine: engine.cli(f"set follow-fork-mode {wanted.follow}"))
        if not done.ok:
            return Result(error=done.error)
        self.forks = wanted
        return Result(wanted)

    @property
    def ending_is_ours(self) -> bool:
        """A session end that follows was asked for here (or by the session's owner)."""
        return self.closing is not None or (self.session is not None and self.session.closing)

    async def ask(self, call: EngineCall[T]) -> Result[T]:
        """One engine call; an engine that is gone or fails on its pipes is an error
        message, like gdb's own errors."""
        if self.session is None or self.closing is not None:
            return Result(error="gdb is not running")
        try:
            return await call(self.session.engine)
        except (OSError, RuntimeError, ValueError) as error:
            return Result(error=str(error))

    async def switch_process(self) -> Result[tuple[int | None, int | None] | None]:
        """The next process gdb debugs becomes the current one (see DebugEngine)."""
        return await self.ask(lambda engine: engine.switch_process())

    async def source_text(self, name: str) -> SourceText:
        """A source file's text (read in a thread: it may come through FUSE), cached."""
        if self.session is None:
            return SourceText(None, ())
        if name not in self.sources:
            self.sources[name] = await asyncio.to_thread(self.session.read_source, name)
        return self.sources[name]

    async def language_stacks(self, with_locals: bool = False) -> LanguageStacks:
        """The program's own frames (none for a native program or without a session)."""
        if self.session is None or self.closing is not None:
            return LanguageStacks(None)
        return await self.session.language_stacks(with_locals)

    async def goroutine_stack(self, goroutine_id: int) -> Result[tuple[Frame, ...]]:
        if self.session is None or self.closing is not None:
            return Result(error="gdb is not running")
        return await self.session.goroutine_stack(goroutine_id)

    def location_in_container(self, path: str) -> str:
        return path if self.session is None else self.session.location_in_container(path)

    def alive(self) -> bool:
        """True until an open session's process is gone (nothing to check before)."""
        return self.session is None or self.session.alive()

    async def close(self) -> None:
        """Every caller (esc, quit, the session's end, unmount) awaits one and the same
        close: a second one must not end the attach session (and kill gdb) while the
        first is still detaching, or gdb dies with its breakpoints in the program."""
        if self.session is None:
            return
        if self.closing is None:
            self.closing = asyncio.ensure_future(self.session.close())
        await asyncio.shield(self.closing)
