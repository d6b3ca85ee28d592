"""The pre-flight: why an attach would fail, checked before (or after) it fails.

Each check is a small function returning one `Check`: `ok`, `warn` or `fail`, what it
found, and for anything but `ok` what to do about it. `host.CHECKS` look at this
machine and this process (privileges, Yama, FUSE, the mount API, gdb, gdbserver,
setsid, the LSM); `target.CHECKS` look at one container's main process (state, user
namespace, seccomp, tracer, cgroup freezer, symbols). Nothing here writes anything, or
enters a namespace: safe from any thread (the TUI runs it in one).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from typing import Literal

from cntr_tui.attach.container import Container
from cntr_tui.linux.procfs import ProcessGone

Status = Literal["ok", "warn", "fail"]
EXITED = "the process exited"


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


def guarded(name: str, run: Callable[[], Check]) -> Check:
    """`run()`, with a process that exits under the check, or an unreadable file, as
    the check's own line rather than an exception ending the whole report."""
    try:
        return run()
    except ProcessGone as error:
        return Check(name, "fail", f"{EXITED}: {error}", "pick a running container")
    except OSError as error:
        return Check(name, "warn", f"could not check: {error}")


def run_checks(container: Container | None = None) -> list[Check]:
    """Every host check, then (with `container`) every check of that container."""
    from cntr_tui.preflight import host, target

    checks = [guarded(name, check) for name, check in host.CHECKS]
    for name, check in target.CHECKS if container is not None else ():
        result = guarded(name, lambda check=check: check(container))
        checks.append(result)
        if result.detail.startswith(EXITED):
            break  # every other check of it would say the same
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
