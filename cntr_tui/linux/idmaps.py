"""User namespaces' id maps: /proc/PID/uid_map and gid_map, and mapping ids across."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from cntr_tui.linux.procfs import read_text


@dataclass(frozen=True)
class IdMapRange:
    """One line of uid_map/gid_map: `count` ids from `inside` map to `outside`."""

    inside: int
    outside: int
    count: int


def to_outside(ranges: Sequence[IdMapRange], inside: int) -> int | None:
    """The id outside that `inside` maps to; None when unmapped."""
    for entry in ranges:
        if entry.inside <= inside < entry.inside + entry.count:
            return entry.outside + inside - entry.inside
    return None


def to_inside(ranges: Sequence[IdMapRange], outside: int) -> int | None:
    """The id inside the namespace that `outside` maps to; None when unmapped."""
    for entry in ranges:
        if entry.outside <= outside < entry.outside + entry.count:
            return entry.inside + outside - entry.outside
    return None


@dataclass(frozen=True)
class IdMaps:
    uid: tuple[IdMapRange, ...]
    gid: tuple[IdMapRange, ...]

    def host_uid(self, inside: int) -> int | None:
        return to_outside(self.uid, inside)

    def host_gid(self, inside: int) -> int | None:
        return to_outside(self.gid, inside)


def parse_id_map(text: str) -> tuple[IdMapRange, ...]:
    return tuple(
        IdMapRange(*(int(part) for part in line.split()))
        for line in text.splitlines()
        if line.strip()
    )


def id_maps(pid: int) -> IdMaps:
    """The uid/gid maps of the user namespace of `pid` (identity maps outside one)."""
    return IdMaps(
        uid=parse_id_map(read_text(pid, "uid_map")),
        gid=parse_id_map(read_text(pid, "gid_map")),
    )
