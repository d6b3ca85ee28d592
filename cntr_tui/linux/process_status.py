"""/proc/PID/status as one typed record, `ProcessStatus`.

Apart from `proc_status` (its field readers) because a record needs dataclasses,
which the processes that start often (the guard) do not import.
"""

from __future__ import annotations

from dataclasses import dataclass

from cntr_tui.linux import capabilities as caps
from cntr_tui.linux.proc_status import nspids_of, state_of, status_fields

SECCOMP_MODES = {0: "off", 1: "strict", 2: "filter"}


@dataclass(frozen=True)
class ProcessStatus:
    """The fields of `/proc/PID/status` that matter for attaching to a process.

    `uids`/`gids` are (real, effective, saved, filesystem). `nspids` lists the PID in
    each PID namespace from the host's down to the process's own (its last element is
    the PID as the container sees it). `seccomp` is 0 (off), 1 (strict), 2 (filter).
    """

    name: str
    state: str
    ppid: int
    uids: tuple[int, int, int, int]
    gids: tuple[int, int, int, int]
    groups: tuple[int, ...]
    capabilities: caps.Capabilities
    no_new_privs: bool
    seccomp: int
    nspids: tuple[int, ...]
    threads: int
    tracer_pid: int = 0


def _four_ints(text: str) -> tuple[int, int, int, int]:
    a, b, c, d = (int(part) for part in text.split())
    return (a, b, c, d)


def from_fields(fields: dict[str, str], pid: int) -> ProcessStatus:
    return ProcessStatus(
        name=fields.get("Name", ""),
        state=state_of(fields),
        ppid=int(fields.get("PPid", "0")),
        uids=_four_ints(fields["Uid"]),
        gids=_four_ints(fields["Gid"]),
        groups=tuple(int(group) for group in fields.get("Groups", "").split()),
        capabilities=caps.from_status(fields),
        no_new_privs=fields.get("NoNewPrivs", "0") == "1",
        seccomp=int(fields.get("Seccomp", "0")),
        nspids=nspids_of(fields, pid),
        threads=int(fields.get("Threads", "1")),
        tracer_pid=int(fields.get("TracerPid", "0")),
    )


def status(pid: int) -> ProcessStatus:
    """Parsed `/proc/PID/status`; raises `ProcessGone`."""
    return from_fields(status_fields(pid), pid)


def capabilities(pid: int) -> caps.Capabilities:
    """The capability sets of `pid` (CapEff is what cntr limits an attached shell to)."""
    return status(pid).capabilities
