"""The debugger screen's one door to the attach session and the gdb engine.

Every call into those modules goes through here, so the screen keeps working (with a
readable notice) while either is missing or lacks a feature, and their names are
mapped in one place.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Callable, Sequence
from dataclasses import dataclass
from typing import Any

from cntr_tui.attach.container import Container

CLOSE_TIMEOUT = 10.0


class DebugUnavailable(Exception):
    """A step cannot be done; `fix` says what the user can do about it."""

    def __init__(self, message: str, fix: str | None = None) -> None:
        super().__init__(message)
        self.fix = fix


@dataclass(frozen=True)
class Outcome:
    """A gdb command's result as the screen needs it: a value or a message."""

    value: Any = None
    error: str | None = None

    @property
    def ok(self) -> bool:
        return self.error is None


def outcome_of(result: Any) -> Outcome:
    """Accepts the engine's Result (value/error) or a plain value."""
    if hasattr(result, "error") and hasattr(result, "value"):
        return Outcome(result.value, result.error)
    return Outcome(result)


def first_method(target: object, *names: str) -> Callable[..., Any] | None:
    for name in names:
        method = getattr(target, name, None)
        if callable(method):
            return method
    return None


def fix_for(message: str) -> str | None:
    """The usual causes of a failed attach, each with what to do."""
    text = message.lower()
    if "operation not permitted" in text or "eperm" in text or "ptrace" in text:
        return (
            "ptrace was refused: run cntr-tui as root (or with CAP_SYS_PTRACE), check "
            "/proc/sys/kernel/yama/ptrace_scope (0 or 1 for root), and that no other "
            "debugger is attached"
        )
    if any(words in text for words in ("no such process", "gone", "does not exist", "exited")):
        return "the process has exited: pick a running container (the list updates by itself)"
    if "fuse" in text:
        return "load the fuse module (modprobe fuse) and check that /dev/fuse exists"
    if "gdb" in text and "not found" in text:
        return "install gdb on the host (apt-get install gdb)"
    return None


class DebugConnection:
    """An attach session (when available) and a gdb session attached to one process."""

    def __init__(self, container: Container, host_pid: int) -> None:
        self.container = container
        self.host_pid = host_pid
        self.gdb: Any = None
        self.attach_session: Any = None
        self.mode = "not attached"
        self.placement: Any = None
        self.closing: asyncio.Future[None] | None = None

    def refuse_if_traced(self) -> None:
        from cntr_tui.preflight.tracer import tracer_refusal

        if (check := tracer_refusal(self.host_pid)) is not None:
            raise DebugUnavailable(f"process {self.host_pid} is {check.detail}", check.fix)

    async def open(self, progress: Callable[[str], None]) -> None:
        """Start the attach session and gdb, attach; raise DebugUnavailable with a fix."""
        self.refuse_if_traced()
        try:
            from cntr_tui.gdb import session as gdb_session
        except ImportError as error:
            raise DebugUnavailable(
                f"The gdb engine is not available in this build ({error}).",
                "update cntr-tui; the debugger needs cntr_tui.gdb.session",
            ) from error
        launcher = await self.make_launcher(progress)
        progress("starting gdb…")
        try:
            try:
                self.gdb = await gdb_session.GdbSession.start(launcher)
            except (OSError, RuntimeError) as error:
                with contextlib.suppress(Exception):
                    await launcher.close()
                raise DebugUnavailable(
                    f"gdb did not start: {error}", fix_for(str(error))
                ) from error
            progress(f"attaching gdb to PID {self.gdb_pid()}…")
            outcome = outcome_of(await self.gdb.attach(self.gdb_pid(), host_pid=self.host_pid))
            if not outcome.ok:
                raise DebugUnavailable(
                    f"gdb could not attach to PID {self.gdb_pid()}: {outcome.error}",
                    fix_for(outcome.error or ""),
                )
        except DebugUnavailable:
            await self.close()
            raise
        except (OSError, RuntimeError, ValueError) as error:
            await self.close()
            raise DebugUnavailable(f"Attaching failed: {error}", fix_for(str(error))) from error

    async def make_launcher(self, progress: Callable[[str], None]) -> Any:
        """gdb inside an attach session when possible, else the host's gdb."""
        progress("starting the attach session (namespaces + merged root)…")
        try:
            from cntr_tui.gdb.attached import AttachLauncher
        except ImportError:
            AttachLauncher = None
        if AttachLauncher is not None:
            try:
                launcher = await self.attach_launcher(AttachLauncher)
                self.mode = f"attach session ({launcher.placement.description})"
                self.placement = launcher.placement
                return launcher
            except DebugUnavailable:
                raise
            except Exception as error:  # the engine's errors have many types; show them
                raise DebugUnavailable(
                    f"The attach session did not start: {error}", fix_for(str(error))
                ) from error
        from cntr_tui.gdb.launch import HostLauncher

        launcher = HostLauncher(target_host_pid=self.host_pid)
        self.mode = launcher.placement.description
        self.placement = launcher.placement
        return launcher

    async def attach_launcher(self, launcher_class: Any) -> Any:
        factory = first_method(launcher_class, "start", "create", "open")
        if factory is not None:
            launcher = await factory(self.container)
        else:
            launcher = launcher_class(self.container)
        self.attach_session = getattr(launcher, "session", None)
        return launcher

    def inside_session(self) -> bool:
        return bool(getattr(self.placement, "inside_session", False))

    def container_pid(self) -> int:
        """The process's PID as the container sees it (last NSpid field)."""
        try:
            with open(f"/proc/{self.host_pid}/status", encoding="utf-8") as status:
                for line in status:
                    if line.startswith("NSpid:"):
                        return int(line.split()[-1])
        except OSError:
            pass
        return self.host_pid

    def gdb_pid(self) -> int:
        return self.container_pid() if self.inside_session() else self.host_pid

    async def call(self, names: Sequence[str], *args: Any, **kwargs: Any) -> Outcome:
        if self.gdb is None:
            return Outcome(error="gdb is not running")
        method = first_method(self.gdb, *names)
        if method is None:
            return Outcome(error=f"the gdb engine has no {names[0]} yet")
        try:
            return outcome_of(await method(*args, **kwargs))
        except (OSError, RuntimeError, ValueError) as error:
            return Outcome(error=str(error))

    def events(self) -> AsyncIterator[Any] | None:
        source = first_method(self.gdb, "events", "iter_events") if self.gdb else None
        return source() if source is not None else None

    def mounts(self) -> Outcome:
        if self.attach_session is not None:
            method = first_method(self.attach_session, "mounts")
            if method is not None:
                try:
                    return Outcome(list(method()))
                except (OSError, RuntimeError, ValueError) as error:
                    return Outcome(error=str(error))
        try:
            from cntr_tui.fs.mounts import classify, read_mountinfo

            return Outcome(classify(read_mountinfo(self.host_pid), container_root="/"))
        except (ImportError, OSError) as error:
            return Outcome(error=f"no mount table: {error}")

    def to_host_path(self, path: str) -> str:
        to_host = getattr(self.placement, "to_host", None)
        return to_host(path) if callable(to_host) else path

    def read_source(self, path: str) -> tuple[str | None, tuple[str, ...]]:
        """The text of a source file gdb names, and where it was looked for."""
        to_host = first_method(self.gdb, "source_path_on_host") if self.gdb else None
        candidates = [to_host(path) if to_host else path, self.to_host_path(path)]
        candidates.append(f"/proc/{self.host_pid}/root{path}")
        looked: list[str] = []
        for candidate in dict.fromkeys(candidates):
            looked.append(candidate)
            with (
                contextlib.suppress(OSError, UnicodeDecodeError),
                open(candidate, encoding="utf-8") as file,
            ):
                return file.read(), tuple(looked)
        return None, tuple(looked)

    def alive(self) -> bool:
        """False once the process is gone or a zombie (a killed, traced process stays a
        zombie until gdb, which is not waiting while it is stopped, reaps it)."""
        try:
            with open(f"/proc/{self.host_pid}/stat", encoding="utf-8") as stat:
                state = stat.read().rpartition(")")[2].split()[0]
        except (OSError, IndexError):
            return False
        return state not in ("Z", "X")

    async def close(self) -> None:
        """Detach (the process keeps running), stop gdb, end the attach session.

        Every caller (esc, quit, the session's end, unmount) awaits one and the same
        close: a second one must not end the attach session (and kill gdb) while the
        first is still detaching, or gdb dies with its breakpoints in the program.
        """
        if self.closing is None:
            self.closing = asyncio.ensure_future(self.close_once())
        await asyncio.shield(self.closing)

    async def close_once(self) -> None:
        gdb, self.gdb = self.gdb, None
        if gdb is not None:
            steps = (("detach",), ("close",)) if self.alive() else (("close",),)
            for names in steps:
                method = first_method(gdb, *names)
                if method is not None:
                    with contextlib.suppress(Exception):
                        await asyncio.wait_for(method(), CLOSE_TIMEOUT)
        session, self.attach_session = self.attach_session, None
        if session is not None:
            method = first_method(session, "close", "stop")
            if method is not None:
                with contextlib.suppress(Exception):
                    result = method()
                    if hasattr(result, "__await__"):
                        await asyncio.wait_for(result, CLOSE_TIMEOUT)
