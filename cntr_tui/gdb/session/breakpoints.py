"""GdbSession's breakpoints: insert (breakpoints, watchpoints, logpoints, catchpoints),
list, delete, enable, disable, condition, ignore count."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from cntr_tui.gdb.records import Breakpoint, CatchKind, Result, WatchAccess, as_list, to_int
from cntr_tui.gdb.session.core import SessionCore
from cntr_tui.gdb.transport import mi_quote


class SessionBreakpoints(SessionCore):
    """Breakpoints by number. Each change works while an all-stop program runs too:
    the engine holds it for the change (execution's `_held`) and emits `Paused`."""

    if TYPE_CHECKING:

        async def _held(
            self, mi_command: str, reason: str
        ) -> Result[dict[str, Any]]: ...  # execution's

    async def break_insert(
        self,
        location: str,
        *,
        condition: str | None = None,
        temporary: bool = False,
        ignore_count: int = 0,
        thread_id: int | None = None,
    ) -> Result[Breakpoint]:
        """A breakpoint at `function`, `file:line` or `*address`."""
        options = " -t" if temporary else ""
        if condition:
            options += f" -c {mi_quote(condition)}"
        if ignore_count:
            options += f" -i {ignore_count}"
        if thread_id is not None:
            options += f" -p {thread_id}"
        return await self._inserted(f"-break-insert{options} {mi_quote(location)}", "bkpt")

    async def watch_insert(
        self,
        expression: str,
        access: WatchAccess = "write",
        thread_id: int | None = None,
        level: int | None = None,
    ) -> Result[Breakpoint]:
        """-break-watch in the selected frame (or thread_id/level's)."""
        flag = {"write": "", "read": " -r", "access": " -a"}[access]
        frame = ""
        if thread_id is not None or level is not None:
            frame = f" --thread {thread_id or self.selected_thread} --frame {level or 0}"
        answer = {"write": "wpt", "read": "hw-rwpt", "access": "hw-awpt"}[access]
        return await self._inserted(f"-break-watch{frame}{flag} {mi_quote(expression)}", answer)

    async def dprintf_insert(
        self, location: str, format: str, arguments: Sequence[str] = ()
    ) -> Result[Breakpoint]:
        quoted = " ".join(mi_quote(part) for part in (location, format, *arguments))
        return await self._inserted(f"-dprintf-insert {quoted}", "bkpt")

    async def catch_insert(
        self, kind: CatchKind, argument: str | None = None
    ) -> Result[Breakpoint]:
        """MI's -catch-* where gdb has one, else the console's `catch` and the newest
        breakpoint of -break-list."""
        if kind in ("throw", "catch", "rethrow", "load", "unload"):
            regex = f" -r {mi_quote(argument)}" if argument and kind in ("load", "unload") else ""
            if kind not in ("load", "unload") and argument:
                regex = f" -r {mi_quote(argument)}"
            return await self._inserted(f"-catch-{kind}{regex}", "bkpt")
        command = f"catch {kind} {argument}" if argument else f"catch {kind}"
        result = await self._held(f"-interpreter-exec console {mi_quote(command)}", "breakpoint")
        if not result.ok:
            return Result(error=result.error)
        listed = await self.breakpoints()
        if not listed.ok or not listed.value:
            return Result(error=listed.error or f"{command}: no catchpoint listed")
        return Result(max(listed.value, key=lambda found: to_int(found.number) or 0))

    async def break_ignore(self, number: str, count: int) -> Result[None]:
        return await self._simple(f"-break-after {number} {count}")

    async def _inserted(self, mi_command: str, answer: str) -> Result[Breakpoint]:
        result = await self._held(mi_command, "breakpoint")
        if not result.ok:
            return Result(error=result.error)
        return Result(Breakpoint.from_mi((result.value or {}).get(answer, {})))

    async def breakpoints(self) -> Result[list[Breakpoint]]:
        result = await self._call("-break-list")
        if not result.ok:
            return Result(error=result.error)
        table = (result.value or {}).get("BreakpointTable", {})
        return Result([Breakpoint.from_mi(item) for item in as_list(table.get("body"))])

    async def break_delete(self, number: str) -> Result[None]:
        return await self._simple(f"-break-delete {number}")

    async def break_enable(self, number: str) -> Result[None]:
        return await self._simple(f"-break-enable {number}")

    async def break_disable(self, number: str) -> Result[None]:
        return await self._simple(f"-break-disable {number}")

    async def break_condition(self, number: str, condition: str | None) -> Result[None]:
        return await self._simple(f"-break-condition {number} {condition or ''}".rstrip())

    async def _simple(self, mi_command: str) -> Result[None]:
        result = await self._held(mi_command, "breakpoint")
        return Result(None) if result.ok else Result(error=result.error)
