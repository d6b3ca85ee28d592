"""The pre-flight: why an attach would fail, checked before (or after) it fails.

Each check is a small function returning one `Check`: `ok`, `warn` or `fail`, what it
found, and for anything but `ok` what to do about it. `host.CHECKS` look at this
machine and this process (privileges, Yama, FUSE, the mount API, gdb, gdbserver,
setsid, the LSM); `target.CHECKS` look at one container's main process (state, user
namespace, seccomp, tracer, cgroup freezer, symbols). Nothing here writes anything, or
enters a namespace: safe from any thread (the TUI runs it in one).
"""

from __future__ import annotations

import errno
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from typing import Literal

from cntr_tui.attach.container import Container
from cntr_tui.linux.procfs import ProcessGone
from cntr_tui.preflight.threads import TracedThread, threads_traced

__all__ = ["Check", "TracedThread", "threads_traced"]

Status = Literal["ok", "warn", "fail"]
EXITED = "the process exited"
PRIVILEGE_ERRORS = (errno.EACCES, errno.EPERM)
SEE_PRIVILEGES = "cntr-tui lacks the privileges to look (see the privileges line)"
PRIVILEGES_FIX = "run it as root with every capability, as the privileges line says"


@dataclass(frozen=True)
class Check:
    """The outcome of one check; `fix` is None when there is nothing to do."""

    check: str
    status: Status
    detail: str
    fix: str | None = None

    def as_json(self) -> dict[str, str | None]:
        return asdict(self)

    def line(self) -> str:
        """`fail  tracer        traced by ... (fix: ...)`: one line, for a terminal."""
        text = f"{self.status:<4}  {self.check:<16}{self.detail}"
        return f"{text} (fix: {self.fix})" if self.fix else text


# (name, check): the name is the check's line when the check itself cannot finish
HostCheck = tuple[str, Callable[[], Check]]
TargetCheck = tuple[str, Callable[[Container], Check]]


def guarded(name: str, run: Callable[[], Check], privileged: bool = True) -> Check:
    """`run()`, with a process that exits under the check, or an unreadable file, as
    the check's own line rather than an exception ending the whole report. Without
    privileges (`privileged` False), a refusal (EACCES, EPERM) says so."""
    try:
        return run()
    except ProcessGone as error:
        return Check(name, "fail", f"{EXITED}: {error}", "pick a running container")
    except OSError as error:
        if not privileged and error.errno in PRIVILEGE_ERRORS:
            where = f" on {error.filename}" if error.filename else ""
            detail = f"could not check: {error.strerror}{where}: {SEE_PRIVILEGES}"
            return Check(name, "warn", detail, PRIVILEGES_FIX)
        return Check(name, "warn", f"could not check: {error}")


def host_checks() -> list[Check]:
    from cntr_tui.preflight import host

    return [guarded(name, check) for name, check in host.CHECKS]


def is_privileged(checks: Sequence[Check]) -> bool:
    """The host checks found root with the capabilities an attach needs."""
    return all(check.status == "ok" for check in checks if check.check == "privileges")


def target_checks(container: Container, privileged: bool = True) -> list[Check]:
    """Every check of `container`, stopping at the first that finds it gone."""
    from cntr_tui.preflight import target

    checks: list[Check] = []
    for name, check in target.CHECKS:
        result = guarded(name, lambda check=check: check(container), privileged)
        checks.append(result)
        if result.detail.startswith(EXITED):
            break  # every other check of it would say the same
    return checks


def run_checks(container: Container | None = None) -> list[Check]:
    """Every host check, then (with `container`) every check of that container."""
    checks = host_checks()
    if container is not None:
        checks += target_checks(container, is_privileged(checks))
    return checks


def problems(checks: Sequence[Check]) -> list[Check]:
    """The checks that are not `ok`: failures first."""
    return sorted((c for c in checks if c.status != "ok"), key=lambda c: c.status != "fail")


def failed(checks: Sequence[Check]) -> bool:
    return any(check.status == "fail" for check in checks)


def explain(container: Container) -> str:
    """What the TUI adds to a failed attach's dialog: every check of the host and of
    `container` run again, the lines that are not `ok` with their fixes ("" if none)."""
    found = problems(run_checks(container))
    if not found:
        return ""
    lines = [
        f"{c.status} {c.check}: {c.detail}" + (f"\n    fix: {c.fix}" if c.fix else "")
        for c in found
    ]
    return "\n\nThe pre-flight (cntr-tui doctor) finds:\n" + "\n".join(lines)
