"""Starting gdb and gdbserver in a container's attach sessions: the blocking half of
`AttachLauncher` (attached.py), free of asyncio, so that `cntr-tui gdb` can set both
going (`begin`) before it imports its engine, and the launcher then takes them.

    starts = SessionStarts.open(container)           # the merged root comes up
    starts.begin(gdb_command_line(starts.placement), spares)  # gdb, gdbserver: in threads
    ...                                               # imports, event loop
    launcher = AttachLauncher(starts)                 # spawn(argv) takes the begun gdb

gdb runs in the attach session: the container's namespaces, host tools at `/`, the
container's root at `/var/lib/cntr`. The tracer is gdbserver (see gdbserver.py), started
in a second attach session without a merged root (the container's own mount namespace,
chrooted to its root) from the host's own files: it gets an O_PATH descriptor N of the
host folder they are in (`spawn(pass_fds=...)`), and its loader, binary and libraries
are named through `/proc/self/fd/N` (the container's procfs, where `self` is
gdbserver). A container without /proc cannot run it: there is then no gdbserver, and
gdb traces the process itself.
"""

from __future__ import annotations

import dataclasses
import os
import subprocess
import threading
from collections.abc import Callable, Sequence
from typing import Generic, TypeVar

from cntr_tui.attach.container import Container
from cntr_tui.attach.session import AttachOptions, AttachSession, SessionProcess
from cntr_tui.attach.spare import SpareHelper
from cntr_tui.attach.spare import attach_available as attach_available
from cntr_tui.errors import UserError
from cntr_tui.fs.mounts import CONTAINER_ROOT
from cntr_tui.gdb.gdbserver import GdbserverFiles, find_gdbserver
from cntr_tui.gdb.pipes import GdbserverProcess, child_pipes
from cntr_tui.gdb.placement import Placement
from cntr_tui.gdb.settings import GDB_ENVIRONMENT
from cntr_tui.linux.proc_status import pid_in_namespace
from cntr_tui.linux.procfs import root_path

# the container's environment must not steer the host's loader
LOADER_ENVIRONMENT = {"LC_ALL": "C", "LD_PRELOAD": "", "LD_LIBRARY_PATH": "", "LD_AUDIT": ""}

T = TypeVar("T")


class Begun(Generic[T]):
    """Work running in a thread of its own (concurrent.futures would import logging
    before gdb starts); `result()` waits for it and returns its value or raises."""

    def __init__(self, work: Callable[[], T]):
        self._done = threading.Event()
        self._value: T | None = None
        self._error: BaseException | None = None
        self._work = work
        threading.Thread(target=self._run, name="cntr-tui-start", daemon=True).start()

    def _run(self) -> None:
        try:
            self._value = self._work()
        except BaseException as error:  # handed to whoever takes the result
            self._error = error
        finally:
            self._done.set()

    def result(self) -> T:
        self._done.wait()
        if self._error is not None:
            raise self._error
        return self._value  # type: ignore[return-value]

    def failed(self) -> bool:
        self._done.wait()
        return self._error is not None


@dataclasses.dataclass(frozen=True)
class StartedGdb:
    """gdb in the session: `helper` is the session's helper (it exits with gdb's
    status, `helper.command_pid` is gdb's host PID); we write MI to `to_gdb` and read it
    from `from_gdb`."""

    helper: SessionProcess
    to_gdb: int
    from_gdb: int


class SessionStarts:
    """gdb's attach session on a container, and gdbserver's (made when first needed)."""

    def __init__(self, session: AttachSession, tracer: str = "gdbserver"):
        self.session = session
        self.tracer = tracer  # "gdbserver", or "native": gdb traces the process itself
        self.placement = Placement(
            container_root=CONTAINER_ROOT,
            container_root_on_host=root_path(session.pid),
            host_root="",
            container_host_pid=session.pid,
            inside_session=True,
            description=f"inside the container, its files at {CONTAINER_ROOT}",
        )
        self._gdbserver_files: GdbserverFiles | None = None
        self._tracer_session: AttachSession | None = None
        self._tracer_lock = threading.Lock()
        self._begun_argv: list[str] | None = None
        self._begun_gdb: Begun[StartedGdb] | None = None
        self._begun_gdbserver: Begun[GdbserverProcess | None] | None = None
        self.gdbserver_failure: str | None = None  # why the last gdbserver did not start

    @classmethod
    def open(
        cls,
        container: Container | int,
        options: AttachOptions | None = None,
        tracer: str = "gdbserver",
    ) -> SessionStarts:
        """Blocking: open the attach session on `container`."""
        return cls(AttachSession(container, options), tracer)

    def spawn_gdb(self, argv: Sequence[str], spare: SpareHelper | None = None) -> StartedGdb:
        """Blocking: start gdb (`argv`) in the session, its stderr joined to stdout
        (through `spare` when given and still available)."""
        return self._send_gdb(argv, spare)()

    def _send_gdb(self, argv: Sequence[str], spare: SpareHelper | None) -> Callable[[], StartedGdb]:
        """gdb's helper gets its plan now; the returned call waits for gdb's start."""
        with child_pipes() as pipes:
            pending = self.session.begin_spawn(
                list(argv),
                env=GDB_ENVIRONMENT,
                stdin=pipes.stdin,
                stdout=pipes.stdout,
                stderr=pipes.stdout,
                spare=spare,
                own_session=True,  # our terminal's SIGHUP is ours to handle, not gdb's
            )

        def started() -> StartedGdb:
            try:
                helper = pending.result()
            except BaseException:
                os.close(pipes.to_child)
                os.close(pipes.from_child)
                raise
            return StartedGdb(helper, pipes.to_child, pipes.from_child)

        return started

    def spawn_gdbserver(
        self, spare: SpareHelper | None = None, console: bool = False
    ) -> GdbserverProcess | None:
        """Blocking: a gdbserver waiting on its pipes for gdb; None when the tracer is
        gdb itself, the host has no gdbserver, or it cannot start in the container.
        `console`: with the console's third pipe (see debug/interrupt_relay.py)."""
        if self.tracer != "gdbserver":
            return None
        console_input, console_end = os.pipe2(os.O_CLOEXEC) if console else (None, None)
        try:
            with child_pipes() as (stdin, stdout, to_server, from_server):
                # our pipes are root's (mode 0600): gdb, running as the container's user,
                # could not open them through /proc/PID/fd for its bridge to gdbserver
                uid, gid = self.session.host_identity()
                for pipe_end in (stdin, stdout, console_end):
                    if pipe_end is not None:
                        os.fchown(pipe_end, uid, gid)
                passed = () if console_end is None else (console_end,)
                try:
                    process = self._spawn_gdbserver(stdin, stdout, spare, passed)
                except (OSError, UserError) as error:
                    self.gdbserver_failure = f"it could not start in the container: {error}"
                    process = None
                if process is None:
                    os.close(to_server)
                    os.close(from_server)
        except BaseException:
            if console_input is not None:
                os.close(console_input)
            raise
        finally:
            if console_end is not None:
                os.close(console_end)  # gdbserver has its own copy
        if process is None:
            if console_input is not None:
                os.close(console_input)
            return None
        return GdbserverProcess(
            pid_in_namespace(process.command_pid),  # its PID as gdb sees it
            process.command_pid,
            to_server,
            from_server,
            console_input,
            console_end,
            self._helper_channel(process),
        )

    def _helper_channel(self, helper: SessionProcess) -> int | None:
        """A copy (O_CLOEXEC) of our end of `helper`'s channel: see GdbserverProcess.hold."""
        session = self._tracer_session
        for started, channel in session.processes if session is not None else ():
            if started is helper:
                return os.dup(channel.fileno())
        return None

    def _spawn_gdbserver(
        self, stdin: int, stdout: int, spare: SpareHelper | None, pass_fds: Sequence[int] = ()
    ) -> SessionProcess | None:
        """gdbserver goes into a second session without a merged root: the container's
        own mount namespace, chrooted to its root. Nothing it touches is served by the
        file server, and the server's teardown, which ends every process in the merged
        root's namespace, does not end it before it has detached."""
        with self._tracer_lock:
            if self._gdbserver_files is None:
                self._gdbserver_files = find_gdbserver()
            if self._gdbserver_files is None:
                self.gdbserver_failure = "the host has no usable gdbserver"
                return None
            if self._tracer_session is None:
                options = dataclasses.replace(self.session.options, fs="none")
                self._tracer_session = AttachSession(self.session.container, options)
        files, session = self._gdbserver_files, self._tracer_session
        folder = os.open(files.root, os.O_PATH | os.O_DIRECTORY | os.O_CLOEXEC)
        try:
            return session.spawn(
                files.argv(f"/proc/self/fd/{folder}"),
                env=LOADER_ENVIRONMENT,
                stdin=stdin,
                stdout=stdout,
                stderr=subprocess.DEVNULL,
                pass_fds=[folder, *pass_fds],
                spare=spare,
                own_session=True,  # a SIGHUP forwarded to gdbserver would kill it
            )
        finally:
            os.close(folder)

    def begin(self, argv: Sequence[str], spares: Sequence[SpareHelper] = ()) -> None:
        """Start gdb (`argv`) and, with the gdbserver tracer, gdbserver now, each from a
        thread of its own: they come up while the caller goes on. `spares`: helpers
        started earlier (spare.py), the first for gdb, the second for gdbserver; one
        left unused stays its owner's to close."""
        gdb_spare = spares[0] if spares else None
        gdbserver_spare = spares[1] if len(spares) > 1 else None
        self._begun_argv = list(argv)
        # gdb's plan goes out from this thread, before the caller's imports take the
        # GIL for long stretches; only the wait for its start goes to a thread
        try:
            started = self._send_gdb(argv, gdb_spare)
        except (OSError, UserError) as error:
            failure = error

            def started() -> StartedGdb:
                raise failure

        self._begun_gdb = Begun(started)
        self._begun_gdbserver = Begun(lambda: self.spawn_gdbserver(gdbserver_spare))

    def take_gdb(self, argv: Sequence[str]) -> Begun[StartedGdb] | None:
        """The gdb begun with this very `argv`, once; None otherwise."""
        if self._begun_gdb is None or list(argv) != self._begun_argv:
            return None
        begun, self._begun_gdb = self._begun_gdb, None
        return begun

    def take_gdbserver(self) -> Begun[GdbserverProcess | None] | None:
        """The gdbserver begun alongside gdb, once; None otherwise."""
        begun, self._begun_gdbserver = self._begun_gdbserver, None
        return begun

    def close(self) -> None:
        """Blocking: end what was begun and not taken, then both sessions (which end
        whatever still runs in them)."""
        gdb, server = self.take_gdb(self._begun_argv or []), self.take_gdbserver()
        if gdb is not None and not gdb.failed():
            for fd in (gdb.result().to_gdb, gdb.result().from_gdb):
                os.close(fd)  # gdb sees its input end and exits
        if server is not None and not server.failed():
            unused = server.result()
            if unused is not None:
                unused.close_ends()  # never attached: it exits, or the close ends it
        self.session.close()
        if self._tracer_session is not None:
            self._tracer_session.close()
