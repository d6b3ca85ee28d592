"""`cntr-tui gdb [-t TYPES] [--pid PID] CONTAINER [--batch] [-ex CMD]...`

gdb attaches to the container's main process (or `--pid`, a PID as the container sees
it), inside an attach session when one can be started, so that PIDs, threads and files
are the container's. `--batch` runs the `-ex` commands over MI, prints their console
output and detaches (the process runs on); otherwise gdb's own console opens, with the
same symbol setup given as `-iex` commands.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import subprocess
import sys
from collections.abc import Sequence
from dataclasses import dataclass

from cntr_tui.errors import UserError
from cntr_tui.gdb.launch import HostLauncher, Launcher, Placement
from cntr_tui.gdb.session import GdbSession
from cntr_tui.gdb.symbols import (
    compile_directories,
    executable_in_container,
    gdb_settings,
    source_directory_rules,
)


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
    return Target(
        host_pid, namespace_pid(host_pid), container, f"{container.runtime} {container.name}"
    )


async def make_launcher(target: Target) -> tuple[Launcher, int, str | None]:
    """The launcher, the PID gdb must attach to, and a note when we fell back."""
    try:
        from cntr_tui.gdb.attached import AttachLauncher, attach_available
    except ImportError:
        AttachLauncher = None
    if AttachLauncher is not None and attach_available():
        container = target.container if target.container is not None else target.host_pid
        launcher = await AttachLauncher.start(container)  # type: ignore[arg-type]
        return launcher, target.namespace_pid, None
    host = HostLauncher(target_host_pid=target.host_pid)
    note = f"no attach session available (needs root and /dev/fuse): {host.placement.description}"
    return host, target.host_pid, note


async def run_batch(target: Target, commands: Sequence[str]) -> int:
    launcher, pid, note = await make_launcher(target)
    if note:
        print(f"cntr-tui: {note}", file=sys.stderr)
    try:
        session = await GdbSession.start(launcher)
    except (OSError, RuntimeError) as error:
        await launcher.close()
        raise UserError(f"gdb did not start: {error}") from error
    status = 0
    try:
        attached = await session.attach(pid, host_pid=target.host_pid)
        if not attached.ok:
            raise UserError(f"gdb could not attach to {target.label} (PID {pid}): {attached.error}")
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
        await session.close()
    return status


def interactive_argv(
    placement: Placement, pid: int, host_pid: int, commands: Sequence[str] = ()
) -> list[str]:
    """gdb's own console with the symbol setup as -iex commands, attached to `pid`."""
    argv = ["gdb", "--nx", "--quiet"]
    for name, value in gdb_settings(placement):
        argv += ["-iex", f"set {name} {value}"]
    folders = compile_directories(f"/proc/{host_pid}/exe")
    for recorded, actual in source_directory_rules(placement, folders):
        argv += ["-iex", f"set substitute-path {recorded} {actual}"]
    executable = executable_in_container(host_pid)
    if executable is not None:
        argv.append(placement.container_path(executable))
    argv += ["-p", str(pid)]
    for command in commands:
        argv += ["-ex", command]
    return argv


def run_interactive(target: Target, commands: Sequence[str]) -> int:
    """gdb's own console on this terminal (inside an attach session when possible).

    Runs on the main thread, so the PTY relay follows window resizes."""
    try:
        from cntr_tui.attach.session import AttachSession
        from cntr_tui.gdb.attached import AttachLauncher, attach_available
    except ImportError:
        attach_available = None  # type: ignore[assignment]
    if attach_available is not None and attach_available():
        container = target.container if target.container is not None else target.host_pid
        with AttachSession(container) as session:  # type: ignore[arg-type]
            placement = AttachLauncher(session).placement
            argv = interactive_argv(placement, target.namespace_pid, target.host_pid, commands)
            return session.run_interactive(argv)
    host = HostLauncher(target_host_pid=target.host_pid)
    print(f"cntr-tui: no attach session available: {host.placement.description}", file=sys.stderr)
    argv = interactive_argv(host.placement, target.host_pid, target.host_pid, commands)
    return subprocess.call(argv)


def run_gdb(args: argparse.Namespace) -> int:
    target = find_target(args.container, args.types, args.pid)
    if args.batch:
        return asyncio.run(run_batch(target, args.ex))
    if not sys.stdin.isatty():
        raise UserError("an interactive gdb needs a terminal: use --batch with -ex commands")
    return run_interactive(target, args.ex)
