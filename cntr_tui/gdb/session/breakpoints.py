"""GdbSession's breakpoints: insert (breakpoints, watchpoints, logpoints, catchpoints),
list, delete, enable, disable, condition, ignore count."""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from cntr_tui.gdb.records import Breakpoint, CatchKind, Result, WatchAccess, as_list
from cntr_tui.gdb.session.core import SessionCore
from cntr_tui.gdb.transport import MiResult, mi_quote

CATCHPOINT_SAID = re.compile(r"Catchpoint (\d+) \(")  # may follow a late line unbroken
C_ESCAPES = {"n": "\n", "t": "\t", "r": "\r", "a": "\a", '"': '"', "\\": "\\"}
C_ESCAPE = re.compile(r"\\(.)")


class SessionBreakpoints(SessionCore):
    """Breakpoints by number. Each change works while an all-stop program runs too:
    the engine holds it for the change (execution's `_held`) and emits `Paused`."""

    if TYPE_CHECKING:

        async def _held(
            self, mi_command: str, reason: str
        ) -> Result[dict[str, Any]]: ...  # execution's

        async def _held_result(
            self, mi_command: str, reason: str = "breakpoint"
        ) -> MiResult: ...  # execution's

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
        """`format`'s C escapes (as typed: \\n, \\t, \\", \\\\) are the characters they
        stand for: gdb's -dprintf-insert quotes the string it is given once more."""
        parts = (location, c_unescaped(format), *arguments)
        return await self._inserted(f"-dprintf-insert {' '.join(map(mi_quote, parts))}", "bkpt")

    async def catch_insert(
        self, kind: CatchKind, argument: str | None = None
    ) -> Result[Breakpoint]:
        """MI's -catch-* where gdb has one, else the console's `catch` (its confirmation,
        "Catchpoint N (...)", names the new one)."""
        if kind in ("throw", "catch", "rethrow"):
            regex = f" -r {mi_quote(argument)}" if argument else ""
            return await self._inserted(f"-catch-{kind}{regex}", "bkpt")
        if kind in ("load", "unload"):
            return await self._inserted(f"-catch-{kind} {mi_quote(argument or '.')}", "bkpt")
        command = f"catch {kind} {argument}" if argument else f"catch {kind}"
        created_before = self._created[0]
        result = await self._held_result(f"-interpreter-exec console {mi_quote(command)}")
        if not result.ok:
            return Result(error=result.error)
        # The one gdb announced (=breakpoint-created) while the command ran; its console
        # text may begin with an earlier command's late line ("Catchpoint 5 (unload)",
        # printed after -catch-unload's ^done), so it names the new one only last.
        count, number = self._created
        said = CATCHPOINT_SAID.findall(result.console)
        if count == created_before or number is None:
            number = said[-1] if said else None
        if number is None:
            return Result(error=f"{command}: {result.console.strip() or 'no catchpoint'}")
        return await self._full(number, None)

    async def break_ignore(self, number: str, count: int) -> Result[None]:
        return await self._simple(f"-break-after {number} {count}")

    async def _inserted(self, mi_command: str, answer: str) -> Result[Breakpoint]:
        result = await self._held(mi_command, "breakpoint")
        if not result.ok:
            return Result(error=result.error)
        inserted = Breakpoint.from_mi((result.value or {}).get(answer, {}))
        if answer == "bkpt":
            return Result(inserted)
        # -break-watch answers with the number and expression only: the kind, hits and
        # the rest are -break-info's (which gdb answers while the program runs).
        return await self._full(inserted.number, inserted)

    async def _full(self, number: str, fallback: Breakpoint | None) -> Result[Breakpoint]:
        """Breakpoint `number` as -break-info lists it."""
        result = await self._call(f"-break-info {number}")
        body = as_list(((result.value or {}).get("BreakpointTable") or {}).get("body"))
        if result.ok and body and isinstance(body[0], dict):
            return Result(Breakpoint.from_mi(body[0]))
        if fallback is not None:
            return Result(fallback)
        return Result(error=result.error or f"breakpoint {number} is not listed")

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


def c_unescaped(text: str) -> str:
    """`text` with its C escapes replaced by their characters (an unknown one is kept)."""
    return C_ESCAPE.sub(lambda found: C_ESCAPES.get(found.group(1), found.group(0)), text)
