"""The doctor's CONTAINER: the look-up as attach does it, its failures as check lines.

A word that names a stopped or created container is a `state` line (what to start); a
word that names nothing is a `lookup` line; either way the host checks still print.
Without root or CAP_SYS_PTRACE, runtimes refuse us (the docker socket) and other
processes' namespaces cannot be read: the look-up's own reasons (a host process, no
container) would then be wrong, so the line says that privileges are missing and
points at the privileges line instead.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from cntr_tui.attach.container import Container
from cntr_tui.attach.discovery import is_live, list_containers
from cntr_tui.attach.lookup import paused_refusal, resolve
from cntr_tui.errors import UserError
from cntr_tui.linux.namespaces import namespace_inode
from cntr_tui.preflight import PRIVILEGE_ERRORS, PRIVILEGES_FIX, SEE_PRIVILEGES, Check

STARTABLE = ("docker", "podman")


@dataclass
class Target:
    """What the look-up found: the container (None if none), the lines it adds
    before the container's checks, and the warnings it would print on stderr."""

    container: Container | None
    checks: list[Check] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    # the one stderr line: of a word that names nothing, or the refusal attach, exec
    # and gdb give a paused or frozen target (the state line says it too)
    error: str | None = None


def look_up(word: str, types: Sequence[str] | None, privileged: bool) -> Target:
    warnings: list[str] = []
    try:
        # paused is a finding here (the state and freezer checks), as well as the
        # refusal on stderr
        container = resolve(word, types, allow_paused=True, warn=warnings.append)
    except UserError as error:
        return failed_look_up(word, types, privileged, str(error))
    if privileged:
        refusal = paused_refusal(container)
        return Target(container, warnings=warnings, error=refusal and refusal.sentence)
    try:
        namespace_inode(container.pid, "pid")
    except OSError as error:
        if error.errno not in PRIVILEGE_ERRORS:
            raise
        # the look-up took the unreadable namespaces for the host's
        line = Check(
            "lookup",
            "warn",
            f"PID {container.pid}: its namespaces cannot be read ({error.strerror}), so "
            f"whether it is a container is unknown: {SEE_PRIVILEGES}",
            PRIVILEGES_FIX,
        )
        return Target(container, [line])
    return Target(container, warnings=warnings)


def failed_look_up(
    word: str, types: Sequence[str] | None, privileged: bool, message: str
) -> Target:
    listing = list_containers(types, include_stopped=True)
    stopped = [
        c
        for c in listing.containers
        if not is_live(c) and (word in (c.id, c.name) or c.id.startswith(word))
    ]
    if len(stopped) == 1:
        [found] = stopped
        start = f"{found.runtime} start {found.name}" if found.runtime in STARTABLE else None
        return Target(
            None,
            [
                Check(
                    "state",
                    "fail",
                    f"{found.runtime} container {found.name} is {found.status}",
                    f"start it: {start}" if start else "start it",
                )
            ],
        )
    if privileged:
        return Target(None, [Check("lookup", "fail", message)], error=message)
    refused = [*listing.warnings, "the namespaces of processes it may not trace cannot be read"]
    detail = f"cannot look up {word!r}: {'; '.join(refused)}; {SEE_PRIVILEGES}"
    return Target(None, [Check("lookup", "fail", detail, PRIVILEGES_FIX)])
