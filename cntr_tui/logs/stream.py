"""The one ContainerLogs every source is: a producer coroutine run in its own task,
started by the first `lines()`, cancelled by `close()`.

A source is only its producer: `produce(emit)` reads its runtime's log and calls
`emit` for each line, returns when the log ends (the container's end), and stops its
thread or child process in its own `finally` when cancelled. An error while reading
ends the lines with one line on the stream "error" that says what happened.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable

from cntr_tui.logs.records import LogLine

Emit = Callable[[LogLine], None]
Producer = Callable[[Emit], Awaitable[None]]
ERROR_STREAM = "error"


class NoLogs(Exception):
    """The container has no log cntr-tui can read; the message says why, in one line."""


class LogStream:
    """`lines()` is meant for one reader at a time; `close()` may come from any task."""

    def __init__(self, source: str, produce: Producer) -> None:
        self._source = source
        self._produce = produce
        self._queue: asyncio.Queue[LogLine | None] = asyncio.Queue()
        self._task: asyncio.Task[None] | None = None
        self._closed = False

    @property
    def source(self) -> str:
        return self._source

    async def lines(self) -> AsyncIterator[LogLine]:
        if self._task is None and not self._closed:
            self._task = asyncio.create_task(self._run(), name=f"logs: {self._source}")
        while (line := await self._queue.get()) is not None:
            yield line
        self._queue.put_nowait(None)  # a later lines() ends at once too

    async def _run(self) -> None:
        try:
            await self._produce(self._queue.put_nowait)
        except asyncio.CancelledError:
            raise
        except Exception as error:  # the sources' errors have many types; say them
            self._queue.put_nowait(LogLine(f"reading the log failed: {error}", ERROR_STREAM))
        finally:
            self._queue.put_nowait(None)

    async def close(self) -> None:
        self._closed = True
        task = self._task
        if task is None:
            self._queue.put_nowait(None)
            return
        task.cancel()
        await asyncio.wait([task])  # its finally: the thread or child process has ended
