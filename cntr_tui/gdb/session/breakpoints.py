"""GdbSession's breakpoints: insert, list, delete, enable, disable, condition."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from cntr_tui.gdb.records import Breakpoint, Result, as_list
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
        condition: str | None = None,
        temporary: bool = False,
        thread_id: int | None = None,
    ) -> Result[Breakpoint]:
        """A breakpoint at `function`, `file:line` or `*address`."""
        options = " -t" if temporary else ""
        if condition:
            options += f" -c {mi_quote(condition)}"
        if thread_id is not None:
            options += f" -p {thread_id}"
        result = await self._held(f"-break-insert{options} {mi_quote(location)}", "breakpoint")
        if not result.ok:
            return Result(error=result.error)
        return Result(Breakpoint.from_mi((result.value or {}).get("bkpt", {})))

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
