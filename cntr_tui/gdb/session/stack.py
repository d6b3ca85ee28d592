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

    async def switch_process(self) -> Result[tuple[int | None, int | None] | None]:
        """The next of the processes gdb debugs becomes its current inferior (`inferior
        N`: step and the panes' thread are its; `continue` resumes them all, see
        schedule-multiple in settings.py): (its PID as gdb sees it, its selected
        thread); None while gdb debugs one process."""
        live = sorted(self.processes, key=lambda group: int(group.lstrip("i") or 0))
        if len(live) < 2:
            return Result(None)
        if self.state == "running":
            return Result(error="the program is running: interrupt it first")
        current = self._thread_groups.get(self.selected_thread or -1)
        following = live[(live.index(current) + 1) % len(live)] if current in live else live[0]
        number = following.lstrip("i")
        done = await self._call(f'-interpreter-exec console "inferior {number}"')
        if not done.ok:
            return Result(error=done.error)
        return Result((self.processes.get(following), self.selected_thread))

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
