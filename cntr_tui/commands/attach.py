"""`cntr-tui attach` and `cntr-tui exec`: run a command inside a container.

attach: host tools at `/`, the container at `/var/lib/cntr` (see attach/session.py).
exec: chrooted into the container's own root, its environment and PATH.
With a TTY on both stdin and stdout the command gets a fresh PTY relayed to it;
otherwise it gets our stdin/stdout/stderr as they are (pipes work).
The exit status is the command's (128+N when killed by signal N).
"""

from __future__ import annotations

import argparse
import os
import sys

from cntr_tui.attach.container import Container
from cntr_tui.attach.identity import host_login_shell
from cntr_tui.attach.session import AttachOptions, AttachSession
from cntr_tui.errors import UserError


def find_container(word: str, types: tuple[str, ...] | None) -> Container:
    """The target, as lookup.resolve_process finds it (a PID at once, with a warning
    for a host process; anything else as `ls WORD` and `gdb WORD` resolve it)."""
    from cntr_tui.attach.lookup import resolve_process

    return resolve_process(word, types)


def interactive() -> bool:
    return os.isatty(sys.stdin.fileno()) and os.isatty(sys.stdout.fileno())


def run_in(session: AttachSession, argv: list[str], in_container_root: bool) -> int:
    if interactive():
        return session.run_interactive(argv, in_container_root=in_container_root)
    return session.run(argv, in_container_root=in_container_root)


def run_attach(args: argparse.Namespace, cmd: list[str]) -> int:
    if os.geteuid() != 0:
        raise UserError("attach needs root (namespaces, mounts and FUSE): run it with sudo")
    container = find_container(args.container, args.types)
    options = AttachOptions(
        fs=args.fs, join_cgroup=not args.no_cgroup, effective_user=args.effective_user
    )
    with AttachSession(container, options) as session:
        return run_in(session, cmd or host_login_shell(), in_container_root=False)


def run_exec(args: argparse.Namespace, cmd: list[str]) -> int:
    if os.geteuid() != 0:
        raise UserError("exec needs root (namespaces): run it with sudo")
    container = find_container(args.container, args.types)
    if not cmd:
        if not os.path.lexists(f"/proc/{container.pid}/root/bin/sh"):
            raise UserError(f"{container.name} has no /bin/sh: give a command after --")
        cmd = ["/bin/sh"]
    with AttachSession(container, AttachOptions(fs="none")) as session:
        return run_in(session, cmd, in_container_root=True)
