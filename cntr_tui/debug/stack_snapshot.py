"""The snapshot's fast path: our own short stop, gdb's unwinding after it.

gdb through gdbserver costs about a millisecond a thread while the program is stopped
(bench/bench_snapshot.py). Here the stack stop process (stack_stop_process.py) stops
every thread, copies its registers and its stack, lets the program go and writes a
small core (stack_core.py) of what it copied; the host's gdb then opens that core
against the process's own files (its root, /proc/PID/root, as sysroot) and reads every
thread's stack (and `--locals`) as `snapshot --core` reads a kept core
(core_snapshot.py), while the program runs on.

Before the stop: gdb starts and reads the executable's symbols (its index cache), the
stop process starts and reads what needs no stop (the maps, the auxiliary vector, the
threads' ids and names, the vDSO), and the dynamic linker's list is read to know which
few words of memory gdb will need to list the libraries. The pause is what the stop
process measured: from before its first interrupt to after its last detach.

The core is a file with no name (O_TMPFILE, mode 0600, in the host's temporary
folder): gdb opens it as /proc/OUR_PID/fd/N; it goes when we end, however we end,
unless `--keep-core` gives it a name with its objects beside it (core_bundle.py, as
`cntr-tui core` keeps one). Nothing is written into the container.

What it cannot read: memory it did not copy. The stacks, registers and the libraries'
files are there; a local that points into the heap (or into another thread's stack
past its copy) shows gdb's "Cannot access memory" for what it points to. The budget
(`--max-pause`), language stacks (Python's frames are read by py-spy from the live
process, Go's goroutines from its heap) and non-x86-64 programs take the gdb path
(snapshot_taken decides, and says why).
"""

from __future__ import annotations

import asyncio
import os
import tempfile
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING

from cntr_tui.debug.core_bundle import CoreBundle
from cntr_tui.debug.snapshot import (
    Budget,
    PauseClock,
    Snapshot,
    StackError,
    StackRead,
    build_snapshot,
    ended,
    exited_during,
    read_stacks,
    take_snapshot,
)
from cntr_tui.debug.stack_stop import StackStop, StopResult, dynamic_linker_ranges
from cntr_tui.errors import UserError
from cntr_tui.gdb.transport import mi_quote

if TYPE_CHECKING:
    from cntr_tui.debug.target import DebugTarget
    from cntr_tui.gdb.session import GdbSession
    from cntr_tui.gdb.starts import SessionStarts

TRACER = "ptrace"  # the snapshot's `tracer`: our own stop, no gdbserver
EM_X86_64 = 62


async def snapshot_taken(
    target: DebugTarget,
    starts: SessionStarts | None = None,
    *,
    with_locals: bool = False,
    budget_ms: float | None = None,
    notes: Callable[[str], None] = lambda text: None,
    via_gdb: bool = False,
    keep: str | None = None,
) -> Snapshot:
    """The snapshot by the fast path where it can serve it, else (and with `via_gdb`)
    through gdb (snapshot.take_snapshot, `starts` its session started early); `notes`
    is told why the fast path was not taken. `keep` (the fast path's core kept there)
    is refused where the fast path cannot serve."""
    if not through_gdb(target, budget_ms, with_locals, via_gdb, keep, notes):
        return await take_fast_snapshot(target, with_locals=with_locals, notes=notes, keep=keep)
    return await take_snapshot(
        target, starts, with_locals=with_locals, budget_ms=budget_ms, notes=notes
    )


def through_gdb(
    target: DebugTarget,
    budget_ms: float | None,
    with_locals: bool,
    via_gdb: bool,
    keep: str | None,
    notes: Callable[[str], None],
) -> bool:
    """Whether the snapshot goes through gdb (asked, or the fast path cannot serve it:
    `notes` is told why); `keep` is refused (UserError) where it would."""
    if not via_gdb:
        refusal = fast_path_refusal(target, budget_ms, with_locals)
        if refusal is None:
            return False
        if keep is not None:
            raise UserError(f"--keep-core keeps the fast stop's core, and {refusal}")
        notes(f"{refusal}: the snapshot stops the program through gdb")
    if keep is not None:
        raise UserError("--keep-core keeps the fast stop's core: not with --via-gdb")
    return True


def fast_path_refusal(
    target: DebugTarget, budget_ms: float | None, with_locals: bool = False
) -> str | None:
    """Why the fast path cannot serve this snapshot (None: it can). Locals are not
    served: the copy holds the stacks alone, and what a local points to (a vector's
    elements, a map's nodes, a string's bytes) is in memory the copy does not hold."""
    import platform

    from cntr_tui.debug.language_stacks import LanguageStackReader

    if platform.machine() != "x86_64":
        return f"the fast snapshot reads x86-64 registers, this host is {platform.machine()}"
    if executable_machine(target.host_pid) != EM_X86_64:
        return "the program is not an x86-64 one"
    if target.non_stop:
        return "non-stop mode asks for gdb"
    if budget_ms is not None:
        return "--max-pause reads the stacks through gdb while the program is stopped"
    if with_locals:
        return "--locals reads the values from the program's memory while it is stopped"
    language = LanguageStackReader(target.host_pid).language
    if language is not None:
        return f"{language.capitalize()} frames are read from the running process"
    return None


def executable_machine(host_pid: int) -> int | None:
    try:
        with open(f"/proc/{host_pid}/exe", "rb") as file:
            header = file.read(20)
    except OSError:
        return None
    if len(header) < 20 or header[:4] != b"\x7fELF":
        return None
    return int.from_bytes(header[18:20], "little")


def anonymous_core() -> int:
    """A file with no name, mode 0600, on the host (the temporary folder): ours alone,
    gone when its last descriptor closes (O_TMPFILE where the folder's file system has
    it, else made and unlinked at once)."""
    folder = tempfile.gettempdir()
    try:
        return os.open(folder, os.O_TMPFILE | os.O_RDWR | os.O_CLOEXEC, 0o600)
    except OSError:
        fd, path = tempfile.mkstemp(prefix="cntr-tui-stacks-", suffix=".core")
        os.unlink(path)
        return fd


def copy_core(core_fd: int, path: Path) -> None:
    """The core's bytes into a new file at `path` (0600; on another file system than
    the temporary folder, a link would not do)."""
    out = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC, 0o600)
    try:
        size, at = os.fstat(core_fd).st_size, 0
        while at < size:
            at += os.copy_file_range(core_fd, out, size - at, at, at) or os.sendfile(
                out, core_fd, at, size - at
            )
    finally:
        os.close(out)


def keep_core(
    bundle: CoreBundle,
    core_fd: int,
    target: DebugTarget,
    executable: str,
    started: int | None,
    pause_ms: float,
) -> None:
    """The core given its name and kept with its objects and manifest (core_bundle.py),
    so that `snapshot --core` and `gdb --core` open it after the container is gone.
    Raises UserError (one line) with nothing of the bundle left."""
    from cntr_tui.debug.core import manifest_of
    from cntr_tui.debug.core_bundle import folder_made_for, keep_objects, link_core, write_manifest

    try:
        with folder_made_for(bundle):
            try:
                copy_core(core_fd, bundle.core)
                kept = keep_objects(bundle, target.host_pid)
                link_core(bundle)
                manifest = manifest_of(target, executable, started, pause_ms, TRACER, None)
                write_manifest(bundle, manifest, kept)
            except BaseException:
                bundle.remove()
                raise
    except OSError as error:
        raise UserError(f"keeping the core at {bundle.core}: {error.strerror or error}") from error


async def take_fast_snapshot(
    target: DebugTarget,
    *,
    with_locals: bool = False,
    notes: Callable[[str], None] = lambda text: None,
    keep: str | None = None,
) -> Snapshot:
    """Raises UserError (one line) when it cannot, with nothing of ours left (gdb and
    the stop process end on every way out; the core has no name). `keep`: the core is
    kept there (core_bundle.py; "" for the default folder), `notes` told where."""
    from cntr_tui.gdb.launch import HostLauncher
    from cntr_tui.gdb.session import GdbSession
    from cntr_tui.gdb.symbols import executable_in_container
    from cntr_tui.linux.proc_stat import alive, start_ticks
    from cntr_tui.linux.procfs import root_path, shares_our_root

    pid = target.host_pid
    started = start_ticks(pid)
    stopped_before = job_stopped(pid)
    executable = executable_in_container(pid)
    if executable is None:
        raise UserError(f"process {pid}: its executable is deleted or unreadable")
    root = None if shares_our_root(pid) else root_path(pid)
    bundle = None
    if keep is not None:
        from cntr_tui.debug.core import core_path

        bundle = CoreBundle(
            core_path(target, keep or None, "--keep-core FILE")
        )  # refused before any stop
    core_fd = anonymous_core()
    gdb: GdbSession | None = None
    stop: StackStop | None = None
    try:
        starting = await asyncio.gather(
            GdbSession.start(HostLauncher(root=root, tracer="native")),
            StackStop.start(pid, core_fd),
            return_exceptions=True,
        )
        gdb = starting[0] if isinstance(starting[0], GdbSession) else None
        stop = starting[1] if isinstance(starting[1], StackStop) else None
        for outcome in starting:
            if isinstance(outcome, BaseException):
                if await ended(target, started):
                    raise exited_during(target) from outcome
                raise UserError(f"the snapshot could not start: {outcome}") from outcome
        assert gdb is not None and stop is not None
        await gdb_command(
            gdb, f"-file-exec-and-symbols {mi_quote(gdb.placement.container_path(executable))}"
        )
        result = await stop.run(dynamic_linker_ranges(pid))
        await stopped_checked(target, started, result)
        if bundle is not None:
            keep_core(bundle, core_fd, target, executable, started, result.pause_ms or 0.0)
            notes(f"the core is kept at {bundle.core} (cntr-tui snapshot --core {bundle.core})")
        core = f"/proc/{os.getpid()}/fd/{core_fd}"
        await gdb_command(gdb, f"-interpreter-exec console {mi_quote('core-file ' + core)}")
        try:
            read = await read_stacks(gdb, Budget(PauseClock(gdb), None, 0), with_locals)
        except StackError as error:
            raise UserError(f"reading the copied stacks: {error}") from error
    finally:
        if stop is not None:
            await stop.close()
        if gdb is not None:
            await gdb.close()
        os.close(core_fd)
    if not alive(pid) or start_ticks(pid) != started:
        raise exited_during(target)  # during gdb's reading: after the stop, at least
    snapshot = build_snapshot(
        target,
        named(read, result),
        executable,
        started,
        TRACER,
        result.pause_ms or 0.0,
        None,
    )
    return replace(snapshot, left_stopped=stopped_before and job_stopped(pid))


def job_stopped(pid: int) -> bool:
    """In a job-control stop (state T: a SIGSTOP, not a tracer's stop)."""
    from cntr_tui.linux.proc_status import state_of, status_fields

    try:
        return state_of(status_fields(pid)) == "T"
    except OSError:
        return False


async def gdb_command(gdb: GdbSession, command: str) -> None:
    done = await gdb.command(command)
    if not done.ok:
        raise UserError(f"gdb: {command.split()[0]}: {done.error}")


async def stopped_checked(target: DebugTarget, started: int | None, result: StopResult) -> None:
    """UserError (one line) when the stop failed: the process exited, another tracer
    holds it, or the stop itself failed (the program runs on in every case)."""
    if result.error is None and not any(t.host_tid == target.host_pid for t in result.threads):
        result = replace(result, error="the main thread was not stopped", gone=True)
    if result.error is None:
        return
    if result.gone or await ended(target, started):
        raise exited_during(target)
    if result.traced:
        from cntr_tui.preflight.tracer import tracer_refusal

        check = tracer_refusal(target.host_pid)
        detail = (
            f"{check.detail} ({check.fix})" if check is not None else "traced by another tracer"
        )
        raise UserError(f"process {target.host_pid} is {detail}")
    raise UserError(f"the snapshot's stop failed: {result.error}")


def named(read: StackRead, result: StopResult) -> StackRead:
    """gdb's threads of the core with the names the stop process read (a core has none)."""
    names = {thread.lwp: thread.name for thread in result.threads}
    threads = [replace(t, name=names.get(t.lwp, t.name)) for t in read.threads]
    return replace(read, threads=threads)
