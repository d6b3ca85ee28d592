"""GdbSession's symbols and sources: the executable and shared libraries gdb loaded, the
symbol report, and the substitute-path rules learnt from the frames gdb reports (where a
source recorded at build time is now, for gdb and for this process).
"""

from __future__ import annotations

import asyncio
import os

from cntr_tui.gdb import symbols
from cntr_tui.gdb.records import Frame, ObjectSymbols, Result, SharedLibrary, Thread, as_list
from cntr_tui.gdb.session.core import SessionCore
from cntr_tui.gdb.transport import mi_quote


class SessionSources(SessionCore):
    """The symbols gdb loaded and where their sources are."""

    async def executable(self) -> Result[str]:
        """The main executable as gdb names it (under the sysroot inside a session)."""
        if self.executable_path is not None:
            return Result(self.executable_path)
        result = await self._call("-list-thread-groups")
        if not result.ok:
            return Result(error=result.error)
        for group in as_list((result.value or {}).get("groups")):
            if group.get("executable"):
                return Result(str(group["executable"]))
        return Result(error="gdb knows no executable")

    async def shared_libraries(self) -> Result[list[SharedLibrary]]:
        result = await self._call("-file-list-shared-libraries")
        if not result.ok:
            return Result(error=result.error)
        return Result(
            [
                SharedLibrary.from_mi(item)
                for item in as_list((result.value or {}).get("shared-libraries"))
            ]
        )

    async def symbol_report(self) -> Result[list[ObjectSymbols]]:
        """The main executable and every shared library: build-id, symbols, why missing."""
        executable = await self.executable()
        libraries = await self.shared_libraries()
        if not libraries.ok:
            return Result(error=libraries.error)
        report = []
        if executable.ok and executable.value:
            report.append(symbols.describe_object(executable.value, self.placement, True))
        for library in libraries.value or []:
            report.append(
                symbols.describe_object(library.host_path, self.placement, library.symbols_loaded)
            )
        return Result(report)

    def resolve_frame(self, frame: Frame) -> Frame:
        """The frame with `fullname` rewritten by our substitute-path rules."""
        if not frame.fullname:
            return frame
        resolved = self.source_path(frame.fullname)
        if resolved == frame.fullname:
            return frame
        return Frame(
            frame.level,
            frame.address,
            frame.function,
            frame.file,
            resolved,
            frame.line,
            frame.library,
            frame.arguments,
        )

    def _with_source(self, thread: Thread) -> Thread:
        if thread.frame is None:
            return thread
        return Thread(
            thread.id,
            thread.target_id,
            thread.lwp,
            thread.name,
            thread.state,
            self.resolve_frame(thread.frame),
            thread.core,
        )

    def source_path(self, fullname: str) -> str:
        """A source path recorded at build time -> where gdb reads it now."""
        for recorded, actual in sorted(self.source_rules.items(), key=lambda r: -len(r[0])):
            if fullname == recorded or fullname.startswith(recorded.rstrip("/") + "/"):
                return actual + fullname[len(recorded) :]
        return fullname

    def source_path_on_host(self, fullname: str) -> str:
        """Where this process opens the source gdb shows for `fullname`."""
        return self.placement.to_host(self.source_path(fullname))

    def _learn_source(self, frame: Frame) -> None:
        if frame.fullname and frame.fullname.startswith("/"):
            directory = os.path.dirname(frame.fullname)
            if directory not in self.source_rules:
                self._add_rules(symbols.source_directory_rules(self.placement, {directory}))

    def _add_rules(self, rules: list[tuple[str, str]]) -> None:
        for recorded, actual in rules:
            if self.source_rules.get(recorded) == actual:
                continue
            self.source_rules[recorded] = actual
            command = (
                f"-interpreter-exec console {mi_quote(f'set substitute-path {recorded} {actual}')}"
            )
            # Sent now, so gdb applies it before any later command of ours.
            task = asyncio.get_running_loop().create_task(self.command(command))
            self._background.add(task)
            task.add_done_callback(self._background.discard)

    async def _learn_executable_sources(self) -> None:
        executable = await self.executable()
        if executable.ok and executable.value:
            host_path = self.placement.to_host(executable.value)
            folders = await asyncio.to_thread(symbols.compile_directories, host_path)
            self._add_rules(symbols.source_directory_rules(self.placement, folders))
