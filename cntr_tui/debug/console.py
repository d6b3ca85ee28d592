"""gdb's own console on this terminal, inside an attach session when possible: through
gdbserver, with the trap guard holding gdbserver's connection, so that a gdb that ends
while attached (killed, crashed, its terminal gone) leaves the program to the guard.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import subprocess
from collections.abc import Sequence

from cntr_tui.debug.ending import ENDING_SIGNALS, say
from cntr_tui.debug.launchers import attach_launcher, fallback_note, host_launcher
from cntr_tui.debug.target import DebugTarget
from cntr_tui.gdb.attached import AttachLauncher
from cntr_tui.gdb.gdbserver import bridge_target
from cntr_tui.gdb.pipes import GdbserverProcess
from cntr_tui.gdb.placement import Placement
from cntr_tui.gdb.settings import GDB_ENVIRONMENT, SIGNAL_COMMANDS, gdb_settings
from cntr_tui.linux.procfs import root_path


def interactive_argv(
    placement: Placement,
    pid: int,
    host_pid: int,
    commands: Sequence[str] = (),
    bridge: str | None = None,
    non_stop: bool = False,
) -> list[str]:
    """gdb's own console with the symbol setup as -iex commands, attached to `pid`:
    through gdbserver when given the `bridge` to it (gdbserver.bridge_target),
    otherwise as the tracer itself; in gdb's non-stop mode when asked."""
    from cntr_tui.gdb.printers import printer_arguments
    from cntr_tui.gdb.symbols import (
        compile_directories,
        executable_in_container,
        source_directory_rules,
    )

    argv = ["gdb", "--nx", "--quiet"]
    for name, value in gdb_settings(placement, non_stop):
        argv += ["-iex", f"set {name} {value}"]
    for command in SIGNAL_COMMANDS:  # no SIGSTOP handed to the program at the detach
        argv += ["-iex", command]
    argv += printer_arguments(placement)  # the host's libstdc++ and Rust pretty printers
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
    if not outcome.get("detached_by_guard"):
        # not a clean detach: the user must be able to tell (a stop or signal the
        # detach would have dealt with may have been left to the rescue)
        return (
            f"gdb ended (status {status}) while attached: gdbserver did not detach, the "
            f"guard's rescue put back {removed} trap(s), the process runs on"
        )
    return (
        f"gdb ended (status {status}) while attached: {removed} trap(s) removed, the guard "
        "detached gdbserver, the process runs on"
    )


def run_guarded_console(
    runner: asyncio.Runner,
    launcher: AttachLauncher,
    server: GdbserverProcess,
    target: DebugTarget,
    commands: Sequence[str],
) -> int:
    """gdb's console on this terminal, connected to `server`, with a trap guard holding
    gdbserver's connection: a gdb that ends while attached (killed, crashed) leaves the
    program to the guard, which detaches gdbserver cleanly."""
    from cntr_tui.attach.pty import relay
    from cntr_tui.debug.interrupt_relay import InterruptRelay
    from cntr_tui.gdb.trap_guard import TrapGuard
    from cntr_tui.linux.proc_status import tracer_pid as tracer_of

    if server.console_input is None or server.console_input_fd is None:
        raise ValueError("the console needs a console gdbserver (start_console_gdbserver)")
    session = launcher.session
    interrupts = None
    bridge = bridge_target(server.pid, target.host_pid, server.console_input_fd)
    argv = interactive_argv(
        launcher.placement,
        target.namespace_pid,
        target.host_pid,
        commands,
        bridge,
        target.non_stop,
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
        status = relay(spawn, pts_root=root_path(session.pid))
    finally:
        # our handlers stay while the guard finishes: a second hang-up (the terminal's
        # session leader going) must not end us before the program is let go and said so
        try:
            if interrupts is not None:
                interrupts.stop()  # gdb is gone: only the guard may write to gdbserver
            if not tracer_of(target.host_pid):  # 0: untraced, None: gone
                # gdb detached (quit, detach) or never attached: the guard checks the
                # program (a stop gdbserver left queued is continued) and lets go
                runner.run(guard.detached())
                end_witness(witness)
            else:
                end_witness(witness)  # gdb is gone, gdbserver still holds the program
                note = guard_note(status, runner.run(guard.finished()))
                why = f"{signal.Signals(received[0]).name}: " if received else ""
                say(f"{why}{note}")  # after a SIGHUP, maybe no terminal to say it on
        finally:
            for number, handler in previous.items():
                signal.signal(number, handler)
    return 128 + received[0] if received else status


def run_interactive(target: DebugTarget, commands: Sequence[str]) -> int:
    """gdb's own console on this terminal (inside an attach session when possible).

    Runs on the main thread, so the PTY relay follows window resizes."""
    from cntr_tui.attach.spare import attach_available

    if not attach_available():
        host = host_launcher(target)
        say(fallback_note(host))
        argv = interactive_argv(
            host.placement, target.host_pid, target.host_pid, commands, non_stop=target.non_stop
        )
        return subprocess.call(argv)
    with asyncio.Runner() as runner:
        launcher = runner.run(attach_launcher(target))
        try:
            server = runner.run(launcher.start_console_gdbserver())
            if server is not None:
                return run_guarded_console(runner, launcher, server, target, commands)
            say(
                "gdbserver is not available: gdb traces the process itself "
                "(no trap guard: killing gdb may kill the process)"
            )
            argv = interactive_argv(
                launcher.placement,
                target.namespace_pid,
                target.host_pid,
                commands,
                non_stop=target.non_stop,
            )
            return launcher.session.run_interactive(argv)
        finally:
            runner.run(launcher.close())
