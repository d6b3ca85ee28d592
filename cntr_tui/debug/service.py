"""open_debug: a target -> gdb attached to it, inside an attach session when possible,
with gdbserver and the trap guard; the one way the front ends get a live session.
"""

from __future__ import annotations

import asyncio
import contextlib

from cntr_tui.debug.language_stacks import LanguageStackReader
from cntr_tui.debug.launchers import Launch, choose_launch
from cntr_tui.debug.protocol import (
    ContainerLogs,
    DebugEngine,
    DebugUnavailable,
    Progress,
    SourceText,
)
from cntr_tui.debug.target import DebugTarget
from cntr_tui.fs.mounts import Mount, classify
from cntr_tui.gdb.attached import AttachLauncher
from cntr_tui.gdb.placement import Placement
from cntr_tui.gdb.records import Frame, Result
from cntr_tui.gdb.session import GdbSession
from cntr_tui.languages.records import LanguageStacks
from cntr_tui.linux.mountinfo import read_mountinfo
from cntr_tui.linux.proc_stat import alive
from cntr_tui.linux.procfs import root_path
from cntr_tui.logs import NoLogs, open_container_logs
from cntr_tui.settings import Settings

CLOSE_TIMEOUT = 10.0


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


def unavailable(message: str) -> DebugUnavailable:
    return DebugUnavailable(message, fix_for(message))


class LiveDebugSession:
    """gdb (a GdbSession) attached to the target, and the launcher that runs it (an
    attach session, or the host)."""

    def __init__(self, target: DebugTarget, launch: Launch, gdb: GdbSession) -> None:
        self._target = target
        self.launch = launch
        self.gdb = gdb
        self._closing: asyncio.Future[None] | None = None
        self._languages: LanguageStackReader | None = None

    @property
    def target(self) -> DebugTarget:
        return self._target

    @property
    def engine(self) -> DebugEngine:
        return self.gdb

    @property
    def placement(self) -> Placement:
        return self.launch.launcher.placement

    @property
    def mode(self) -> str:
        if self.placement.inside_session:
            return f"attach session ({self.placement.description})"
        return self.placement.description

    @property
    def notes(self) -> tuple[str, ...]:
        notes = [self.launch.fallback] if self.launch.fallback else []
        if self.gdb.tracer != "gdbserver":
            why = f" ({self.gdb.gdbserver_failure})" if self.gdb.gdbserver_failure else ""
            notes.append(
                f"gdbserver could not be used{why}: gdb traces the process itself (if gdb "
                "dies with breakpoints in, the process may die too)"
            )
        return tuple(notes)

    @property
    def closing(self) -> bool:
        return self._closing is not None

    @property
    def non_stop(self) -> bool:
        return self.gdb.non_stop

    def mounts(self) -> Result[list[Mount]]:
        launcher = self.launch.launcher
        try:
            if isinstance(launcher, AttachLauncher):
                return Result(list(launcher.session.mounts()))
            return Result(classify(read_mountinfo(self.target.host_pid), container_root="/"))
        except (OSError, RuntimeError, ValueError) as error:
            return Result(error=f"no mount table: {error}")

    def read_source(self, path: str) -> SourceText:
        candidates = [
            self.gdb.source_path_on_host(path),
            self.placement.to_host(path),
            root_path(self.target.host_pid) + path,
        ]
        looked: list[str] = []
        for candidate in dict.fromkeys(candidates):
            looked.append(candidate)
            with (
                contextlib.suppress(OSError, UnicodeDecodeError),
                open(candidate, encoding="utf-8") as file,
            ):
                return SourceText(file.read(), tuple(looked))
        return SourceText(None, tuple(looked))

    def location_in_container(self, path: str) -> str:
        return self.placement.in_container(path)

    def alive(self) -> bool:
        # a killed, traced process stays a zombie until gdb, which is not waiting while
        # it is stopped, reaps it
        return alive(self.target.host_pid)

    def open_logs(self, tail: int = 200) -> Result[ContainerLogs]:
        target = self.target
        try:
            return Result(open_container_logs(target.container, target.host_pid, tail))
        except NoLogs as error:
            return Result(error=str(error))

    @property
    def languages(self) -> LanguageStackReader:
        if self._languages is None:
            self._languages = LanguageStackReader(self.target.host_pid)
        return self._languages

    async def language_stacks(self, with_locals: bool = False) -> LanguageStacks:
        return await self.languages.stacks(self.gdb, with_locals)

    async def goroutine_stack(self, goroutine_id: int) -> Result[tuple[Frame, ...]]:
        return await self.languages.goroutine_stack(self.gdb, goroutine_id)

    async def attach(self) -> None:
        """gdb attaches to the target; raises DebugUnavailable."""
        pid = self.launch.gdb_pid
        for name, value in self.target.forks.pairs():  # in force at the program's next fork
            chosen = await self.gdb.command(f"-gdb-set {name} {value}")
            if not chosen.ok:
                raise unavailable(f"gdb refused `set {name} {value}`: {chosen.error}")
        try:
            attached = await self.gdb.attach(pid, host_pid=self.target.host_pid)
        except (OSError, RuntimeError, ValueError) as error:
            raise unavailable(f"Attaching failed: {error}") from error
        if not attached.ok:
            raise unavailable(
                f"gdb could not attach to {self.target.label} (PID {pid}): {attached.error}"
            )

    async def close(self) -> None:
        """Detach (the process runs on), stop gdb, end the attach session.

        Every caller (esc, quit, the session's end, unmount) awaits one and the same
        close: a second one must not end the attach session (and kill gdb) while the
        first is still detaching, or gdb dies with its breakpoints in the program."""
        if self._closing is None:
            self._closing = asyncio.ensure_future(self._close_once())
        await asyncio.shield(self._closing)

    async def _close_once(self) -> None:
        if self.alive():
            with contextlib.suppress(Exception):
                await asyncio.wait_for(self.gdb.detach(), CLOSE_TIMEOUT)
        with contextlib.suppress(Exception):
            await asyncio.wait_for(self.gdb.close(), CLOSE_TIMEOUT)
        with contextlib.suppress(Exception):
            await asyncio.wait_for(self.launch.launcher.close(), CLOSE_TIMEOUT)


async def start_debug(
    target: DebugTarget, launch: Launch, settings: Settings | None = None
) -> LiveDebugSession:
    """gdb running through the launcher (in non-stop mode for a `non_stop` target), not
    attached yet; the launcher is closed when gdb does not start. `settings`: those the
    front end read (None: the environment's)."""
    try:
        gdb = await GdbSession.start(launch.launcher, non_stop=target.non_stop, settings=settings)
    except (OSError, RuntimeError) as error:
        await launch.launcher.close()
        raise unavailable(f"gdb did not start: {error}") from error
    except BaseException:
        await launch.launcher.close()
        raise
    return LiveDebugSession(target, launch, gdb)


async def open_debug(
    target: DebugTarget,
    progress: Progress = lambda text: None,
    settings: Settings | None = None,
) -> LiveDebugSession:
    """gdb attached to the target, where choose_launch decides; raises
    DebugUnavailable, with a fix where one is known."""
    from cntr_tui.preflight.tracer import tracer_refusal

    if (check := tracer_refusal(target.host_pid)) is not None:
        raise DebugUnavailable(f"process {target.host_pid} is {check.detail}", check.fix)
    progress("starting the attach session (namespaces + merged root)…")
    try:
        launch = await choose_launch(target)
    except Exception as error:  # the attach's errors have many types; show them
        raise unavailable(f"The attach session did not start: {error}") from error
    progress("starting gdb…")
    session = await start_debug(target, launch, settings)
    progress(f"attaching gdb to PID {launch.gdb_pid}…")
    try:
        await session.attach()
    except BaseException:
        await session.close()
        raise
    return session
