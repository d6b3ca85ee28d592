"""`cntr-tui gdb [-t TYPES] [--pid PID] CONTAINER [--batch] [-ex CMD]...`

gdb attaches to the container's main process (or `--pid`, a PID as the container sees
it), inside an attach session when one can be started, so that PIDs, threads and files
are the container's. `--batch` runs the `-ex` commands over MI, prints their console
output and detaches (the process runs on); otherwise gdb's own console opens, with the
same symbol setup given as `-iex` commands.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import signal
import subprocess
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from cntr_tui.errors import UserError
from cntr_tui.gdb.gdbserver import bridge_target
from cntr_tui.gdb.placement import Placement
from cntr_tui.gdb.settings import GDB_ENVIRONMENT, gdb_command_line, gdb_settings

# asyncio and the engine are imported only once gdb is on its way (see run_gdb)
if TYPE_CHECKING:
    import asyncio

    from cntr_tui.attach.spare import SpareHelper
    from cntr_tui.gdb.attached import AttachLauncher
    from cntr_tui.gdb.launch import Launcher
    from cntr_tui.gdb.pipes import GdbserverProcess
    from cntr_tui.gdb.starts import SessionStarts


@dataclass(frozen=True)
class Target:
    """The process to debug: its host PID, its PID in its own namespace, and the
    container it belongs to (None for a bare host PID)."""

    host_pid: int
    namespace_pid: int
    container: object | None
    label: str


def namespace_pid(host_pid: int) -> int:
    """The PID of a host process as its own PID namespace sees it (last NSpid field)."""
    try:
        with open(f"/proc/{host_pid}/status", encoding="utf-8") as status:
            for line in status:
                if line.startswith("NSpid:"):
                    return int(line.split()[-1])
    except OSError as error:
        raise UserError(f"process {host_pid} is gone") from error
    return host_pid


def pid_namespace(host_pid: int) -> int:
    try:
        return os.stat(f"/proc/{host_pid}/ns/pid").st_ino
    except OSError as error:
        raise UserError(f"process {host_pid} is gone") from error


def host_pid_of(container_host_pid: int, pid_in_container: int) -> int:
    """The host PID of `pid_in_container`, a PID in the namespace of a container process."""
    namespace = pid_namespace(container_host_pid)
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            if os.stat(f"/proc/{entry}/ns/pid").st_ino != namespace:
                continue
        except OSError:
            continue
        try:
            if namespace_pid(int(entry)) == pid_in_container:
                return int(entry)
        except UserError:
            continue
    raise UserError(f"no process {pid_in_container} in the container's PID namespace")


def find_target(word: str, types: Sequence[str] | None, pid: int | None) -> Target:
    from cntr_tui.attach.lookup import resolve

    container = resolve(word, types)
    host_pid = host_pid_of(container.pid, pid) if pid is not None else container.pid
    refuse_if_traced(host_pid)
    return Target(
        host_pid, namespace_pid(host_pid), container, f"{container.runtime} {container.name}"
    )


def refuse_if_traced(host_pid: int) -> None:
    from cntr_tui.preflight.tracer import tracer_refusal

    if (check := tracer_refusal(host_pid)) is not None:
        raise UserError(f"process {host_pid} is {check.detail} ({check.fix})")


def begin_in_session(target: Target, spares: Sequence[SpareHelper] = ()) -> SessionStarts | None:
    """Open the attach session on the target's container and set gdb (with the command
    line GdbSession.start will ask for) and gdbserver going, before the engine is even
    imported, through `spares` (gdb's, gdbserver's) when given; None when no attach
    session is available. Spares left unused remain the caller's to close."""
    from cntr_tui.attach.spare import attach_available, join_cgroups_early

    if not attach_available():
        return None
    container = target.container if target.container is not None else target.host_pid
    # the spares' cgroup move sleeps in the kernel while we import and open the session
    joining = join_cgroups_early(spares, getattr(container, "pid", target.host_pid))
    try:
        from cntr_tui.gdb.starts import SessionStarts

        starts = SessionStarts.open(container)  # type: ignore[arg-type]
    except ImportError:
        return None
    finally:
        joining.join()
    starts.begin(gdb_command_line(starts.placement), spares)
    return starts


async def make_launcher(
    target: Target, starts: SessionStarts | None = None
) -> tuple[Launcher, int, str | None]:
    """The launcher (taking `starts` when given), the PID gdb must attach to, and a note
    when we fell back."""
    from cntr_tui.gdb.launch import HostLauncher

    if starts is not None:
        from cntr_tui.gdb.attached import AttachLauncher

        return AttachLauncher(starts), target.namespace_pid, None
    try:
        from cntr_tui.gdb.attached import AttachLauncher
        from cntr_tui.gdb.starts import attach_available
    except ImportError:
        AttachLauncher = None  # type: ignore[assignment,misc]
    if AttachLauncher is not None and attach_available():
        container = target.container if target.container is not None else target.host_pid
        launcher = await AttachLauncher.start(container)  # type: ignore[arg-type]
        return launcher, target.namespace_pid, None
    host = HostLauncher(target_host_pid=target.host_pid)
    note = f"no attach session available (needs root and /dev/fuse): {host.placement.description}"
    return host, target.host_pid, note


# On SIGTERM or SIGHUP, gdb gets this long to detach before it is killed and the trap
# guard detaches gdbserver: gdb may be busy with a command (`shell`, a long `print`).
SIGNAL_DETACH_TIMEOUT = 1.5
ENDING_SIGNALS = (signal.SIGTERM, signal.SIGHUP)


class EndingSignals:
    """While active, SIGTERM or SIGHUP cancels the current asyncio task (a batch run):
    its clean-up detaches. `received` is the signal, if one came."""

    def __init__(self) -> None:
        self.received: int | None = None

    def __enter__(self) -> EndingSignals:
        import asyncio

        loop, task = asyncio.get_running_loop(), asyncio.current_task()
        assert task is not None

        def on_signal(number: int) -> None:
            if self.received is None:
                self.received = number
                task.cancel()

        for number in ENDING_SIGNALS:
            loop.add_signal_handler(number, on_signal, number)
        return self

    def __exit__(self, *exc_info: object) -> None:
        import asyncio

        for number in ENDING_SIGNALS:
            asyncio.get_running_loop().remove_signal_handler(number)


async def run_batch(
    target: Target, commands: Sequence[str], starts: SessionStarts | None = None
) -> int:
    import asyncio

    with EndingSignals() as ending:
        try:
            return await batch(target, commands, starts, ending)
        except asyncio.CancelledError:
            if ending.received is None:
                raise
            asyncio.current_task().uncancel()  # type: ignore[union-attr]
            return 128 + ending.received


async def batch(
    target: Target,
    commands: Sequence[str],
    starts: SessionStarts | None,
    ending: EndingSignals,
) -> int:
    from cntr_tui.gdb.session import GdbSession

    launcher, pid, note = await make_launcher(target, starts)
    if note:
        print(f"cntr-tui: {note}", file=sys.stderr)
    try:
        session = await GdbSession.start(launcher)
    except (OSError, RuntimeError) as error:
        await launcher.close()
        raise UserError(f"gdb did not start: {error}") from error
    except BaseException:
        await launcher.close()
        raise
    status = 0
    try:
        attached = await session.attach(pid, host_pid=target.host_pid)
        if not attached.ok:
            raise UserError(f"gdb could not attach to {target.label} (PID {pid}): {attached.error}")
        if session.tracer != "gdbserver":
            why = f" ({session.gdbserver_failure})" if session.gdbserver_failure else ""
            print(
                f"cntr-tui: gdbserver could not be used{why}: gdb traces the process "
                "itself (if gdb dies with breakpoints in, the process may die too)",
                file=sys.stderr,
            )
        for command in commands:
            output = await session.cli(command)
            if output.ok:
                sys.stdout.write(output.value or "")
            else:
                print(f"gdb: {command}: {output.error}", file=sys.stderr)
                status = 1
            sys.stdout.flush()
            if session.state == "ended":
                break
        if session.state != "ended":
            detached = await session.detach()
            if not detached.ok:
                raise UserError(f"detaching failed: {detached.error}")
    finally:
        timeout = SIGNAL_DETACH_TIMEOUT if ending.received is not None else 5.0
        await session.close(detach_timeout=timeout)
        if ending.received is not None:
            outcome = session.guard_outcome or {}
            how = "the guard detached gdbserver" if outcome.get("detached_by_guard") else "gdb"
            with contextlib.suppress(OSError):  # after a SIGHUP, maybe no terminal
                print(
                    f"cntr-tui: {signal.Signals(ending.received).name}: detached ({how})",
                    file=sys.stderr,
                )
    return status


def interactive_argv(
    placement: Placement,
    pid: int,
    host_pid: int,
    commands: Sequence[str] = (),
    bridge: str | None = None,
) -> list[str]:
    """gdb's own console with the symbol setup as -iex commands, attached to `pid`:
    through gdbserver when given the `bridge` to it (gdbserver.bridge_target),
    otherwise as the tracer itself."""
    from cntr_tui.gdb.symbols import (
        compile_directories,
        executable_in_container,
        source_directory_rules,
    )

    argv = ["gdb", "--nx", "--quiet"]
    for name, value in gdb_settings(placement):
        argv += ["-iex", f"set {name} {value}"]
    folders = compile_directories(f"/proc/{host_pid}/exe")
    for recorded, actual in source_directory_rules(placement, folders):
        argv += ["-iex", f"set substitute-path {recorded} {actual}"]
    executable = executable_in_container(host_pid)
    if executable is not None:
        argv.append(placement.container_path(executable))
    if bridge is None:
        argv += ["-p", str(pid)]
    else:
        argv += ["-ex", f"target extended-remote {bridge}", "-ex", f"attach {pid}"]
    for command in commands:
        argv += ["-ex", command]
    return argv


def start_witness() -> subprocess.Popen[bytes]:
    """A process that lives while we hold its stdin open: the trap guard watches it in
    place of gdb. A clean quit must reach the guard before the guard sees its watched
    process end, and only we (not gdb) can tell a clean quit from a killed gdb; if we
    die, the witness ends with us and the guard takes over."""
    return subprocess.Popen(
        ["cat"],
        stdin=subprocess.PIPE,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,  # a Ctrl-C on our terminal is not a dead gdb
    )


def end_witness(witness: subprocess.Popen[bytes]) -> None:
    if witness.stdin is not None:
        witness.stdin.close()
    try:
        witness.wait(5)
    except subprocess.TimeoutExpired:
        witness.kill()
        witness.wait()


def guard_note(status: int, outcome: dict[str, object] | None) -> str:
    """One line on what the guard did after gdb ended while still attached."""
    if outcome is None:
        return f"gdb ended (status {status}) while attached; the trap guard did not report"
    if outcome.get("gone"):
        return f"gdb ended (status {status}); the process is gone"
    if outcome.get("error"):
        return f"gdb ended (status {status}); making the process safe failed: {outcome['error']}"
    removed = sum(int(str(outcome.get(key, 0))) for key in ("restored", "removed_by_gdbserver"))
    how = ", the guard detached gdbserver" if outcome.get("detached_by_guard") else ""
    return (
        f"gdb ended (status {status}) while attached: {removed} trap(s) removed{how}, "
        "the process runs on"
    )


def run_guarded_console(
    runner: asyncio.Runner,
    launcher: AttachLauncher,
    server: GdbserverProcess,
    target: Target,
    commands: Sequence[str],
) -> int:
    """gdb's console on this terminal, connected to `server`, with a trap guard holding
    gdbserver's connection: a gdb that ends while attached (killed, crashed) leaves the
    program to the guard, which detaches gdbserver cleanly."""
    from cntr_tui.attach.pty import relay
    from cntr_tui.commands.gdb_interrupt import InterruptRelay
    from cntr_tui.gdb.trap_guard import TrapGuard
    from cntr_tui.linux.proc_status import tracer_pid as tracer_of

    if server.console_input is None or server.console_input_fd is None:
        raise ValueError("the console needs a console gdbserver (start_console_gdbserver)")
    session = launcher.session
    interrupts = None
    bridge = bridge_target(server.pid, target.host_pid, server.console_input_fd)
    argv = interactive_argv(
        launcher.placement, target.namespace_pid, target.host_pid, commands, bridge
    )
    witness = start_witness()
    link = (server.host_pid, target.namespace_pid, server.to_server, server.from_server)
    try:
        guard = runner.run(TrapGuard.start(witness.pid, target.host_pid, link, server.hold))
        interrupts = InterruptRelay(server.console_input, server.to_server, target.host_pid)
    except BaseException:
        end_witness(witness)
        raise
    finally:
        server.close_ends()  # the guard and the relay hold their own copies
    status = 1
    gdbs: list[int] = []
    received: list[int] = []

    def spawn(slave: int, env: dict[str, str]) -> subprocess.Popen[bytes]:
        helper = session.spawn(
            argv,
            env={**env, **GDB_ENVIRONMENT},
            stdin=slave,
            stdout=slave,
            stderr=slave,
            terminal=True,
            own_session=True,  # our terminal's SIGHUP is for the handler below
        )
        gdbs.append(helper.command_pid)
        return helper

    def on_signal(number: int, _frame: object) -> None:
        # SIGTERM, or SIGHUP (our terminal is gone): gdb's console cannot be asked to
        # detach, so gdb ends and the guard detaches gdbserver (traps out, `D`)
        received.append(number)
        for pid in gdbs:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)

    previous = {number: signal.signal(number, on_signal) for number in ENDING_SIGNALS}
    try:
        status = relay(spawn, pts_root=f"/proc/{session.pid}/root")
    finally:
        for number, handler in previous.items():
            signal.signal(number, handler)
        if interrupts is not None:
            interrupts.stop()  # gdb is gone: only the guard may write to gdbserver now
        if not tracer_of(target.host_pid):  # 0: untraced, None: gone
            # gdb detached (quit, detach) or never attached: the guard checks the
            # program (a stop gdbserver left queued is continued) and lets go
            runner.run(guard.detached())
            end_witness(witness)
        else:
            end_witness(witness)  # gdb is gone, gdbserver still holds the program
            note = guard_note(status, runner.run(guard.finished()))
            why = f"{signal.Signals(received[0]).name}: " if received else ""
            with contextlib.suppress(OSError):  # after a SIGHUP, no terminal to say it on
                print(f"cntr-tui: {why}{note}", file=sys.stderr)
    return 128 + received[0] if received else status


def run_interactive(target: Target, commands: Sequence[str]) -> int:
    """gdb's own console on this terminal (inside an attach session when possible).

    Runs on the main thread, so the PTY relay follows window resizes."""
    import asyncio

    from cntr_tui.gdb.launch import HostLauncher

    try:
        from cntr_tui.gdb.attached import AttachLauncher
        from cntr_tui.gdb.starts import attach_available
    except ImportError:
        attach_available = None  # type: ignore[assignment]
    if attach_available is not None and attach_available():
        container = target.container if target.container is not None else target.host_pid
        with asyncio.Runner() as runner:
            launcher = runner.run(AttachLauncher.start(container))  # type: ignore[arg-type]
            try:
                server = runner.run(launcher.start_console_gdbserver())
                if server is not None:
                    return run_guarded_console(runner, launcher, server, target, commands)
                print(
                    "cntr-tui: gdbserver is not available: gdb traces the process itself "
                    "(no trap guard: killing gdb may kill the process)",
                    file=sys.stderr,
                )
                argv = interactive_argv(
                    launcher.placement, target.namespace_pid, target.host_pid, commands
                )
                return launcher.session.run_interactive(argv)
            finally:
                runner.run(launcher.close())
    host = HostLauncher(target_host_pid=target.host_pid)
    print(f"cntr-tui: no attach session available: {host.placement.description}", file=sys.stderr)
    argv = interactive_argv(host.placement, target.host_pid, target.host_pid, commands)
    return subprocess.call(argv)


def run_gdb(args: argparse.Namespace, spares: Sequence[SpareHelper] = ()) -> int:
    """`spares`: attach helpers started while we parsed and looked up (spare.py), for
    gdb's and gdbserver's starts with --batch; the caller ends those left unused."""
    target = find_target(args.container, args.types, args.pid)
    if args.batch:
        # gdb starts (about 0.1 s) while we import asyncio and the engine
        starts = begin_in_session(target, spares)
        import asyncio

        try:
            return asyncio.run(run_batch(target, args.ex, starts))
        finally:
            if starts is not None:
                starts.close()  # already done by run_batch unless it failed early
    if not sys.stdin.isatty():
        raise UserError("an interactive gdb needs a terminal: use --batch with -ex commands")
    return run_interactive(target, args.ex)
