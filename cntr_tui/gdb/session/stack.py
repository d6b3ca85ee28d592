"""GdbSession's threads and stack: the thread list, backtraces, and the selected thread
and frame that later commands default to.
"""

from __future__ import annotations

from cntr_tui.gdb.records import Frame, Result, Thread, as_list
from cntr_tui.gdb.session.sources import SessionSources


class SessionStack(SessionSources):
    """Threads, frames and the selection."""

    async def threads(self) -> Result[list[Thread]]:
        """Every thread with its top frame (LWPs as gdb's PID namespace sees them)."""
        result = await self._call("-thread-info")
        if not result.ok:
            return Result(error=result.error)
        threads = [Thread.from_mi(item) for item in as_list((result.value or {}).get("threads"))]
        for thread in threads:
            if thread.frame is not None:
                self._learn_source(thread.frame)
        return Result([self._with_source(thread) for thread in threads])

    async def backtrace(
        self, thread_id: int | None = None, low: int | None = None, high: int | None = None
    ) -> Result[list[Frame]]:
        thread = thread_id if thread_id is not None else self.selected_thread
        options = f"--thread {thread} " if thread is not None else ""
        bounds = f" {low} {high}" if low is not None and high is not None else ""
        frames = await self._call(f"-stack-list-frames {options}{bounds}".rstrip())
        if not frames.ok:
            return Result(error=frames.error)
        listed = []
        for item in as_list((frames.value or {}).get("stack")):
            frame = Frame.from_mi(item.get("frame", item) if isinstance(item, dict) else {})
            self._learn_source(frame)
            listed.append(self.resolve_frame(frame))
        return Result(listed)

    async def select_thread(self, thread_id: int) -> Result[Frame | None]:
        result = await self._call(f"-thread-select {thread_id}")
        if not result.ok:
            return Result(error=result.error)
        self.selected_thread = thread_id
        self.selected_frame = 0
        frame = (result.value or {}).get("frame")
        return Result(Frame.from_mi(frame) if isinstance(frame, dict) else None)

    async def select_frame(self, level: int, thread_id: int | None = None) -> Result[Frame]:
        thread = thread_id or self.selected_thread
        frames = await self.backtrace(thread, low=level, high=level)
        if not frames.ok:
            return Result(error=frames.error)
        if not frames.value:
            return Result(error=f"no frame {level}")
        thread_option = f"--thread {thread} " if thread is not None else ""
        selected = await self._call(f"-stack-select-frame {thread_option}{level}")
        if not selected.ok:
            return Result(error=selected.error)
        self.selected_thread = thread
        self.selected_frame = level
        return Result(frames.value[0])

    async def frame_up(self) -> Result[Frame]:
        return await self.select_frame(self.selected_frame + 1)

    async def frame_down(self) -> Result[Frame]:
        if self.selected_frame == 0:
            return Result(error="already at the innermost frame")
        return await self.select_frame(self.selected_frame - 1)
