"""Who a session's commands run as, read from the container's main process: its uid,
gid and groups inside its user namespace (or `--effective-user`), its AppArmor profile;
and the host user's login shell for interactive sessions."""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass, field

from cntr_tui.errors import UserError
from cntr_tui.linux import users
from cntr_tui.linux.idmaps import IdMapRange, id_maps, to_inside, to_outside
from cntr_tui.linux.process_status import status
from cntr_tui.linux.procfs import root_path, security_label


@dataclass
class Identity:
    uid: int
    gid: int
    groups: list[int] = field(default_factory=list)


def inside_id(ranges: Sequence[IdMapRange], host_id: int) -> int:
    """The id inside a user namespace that maps to `host_id` outside (identity if none)."""
    inside = to_inside(ranges, host_id)
    return host_id if inside is None else inside


def outside_id(ranges: Sequence[IdMapRange], inside: int) -> int:
    """The host id that `inside` (an id in a user namespace) maps to (identity if none)."""
    outside = to_outside(ranges, inside)
    return inside if outside is None else outside


def container_identity(pid: int) -> Identity:
    found = status(pid)
    maps = id_maps(pid)
    uid = inside_id(maps.uid, found.uids[1])
    gid = inside_id(maps.gid, found.gids[1])
    return Identity(uid, gid, [inside_id(maps.gid, group) for group in found.groups])


def effective_identity(pid: int, user: str) -> Identity:
    """`--effective-user`: a name from the container's /etc/passwd, or UID[:GID]."""
    name, _, group = user.partition(":")
    if name.isdigit():
        uid = int(name)
        gid = int(group) if group.isdigit() else uid
        return Identity(uid, gid, [gid])
    root = root_path(pid)
    entry = users.find_user(root, name)
    if entry is not None:
        gid = int(group) if group.isdigit() else entry.gid
        return Identity(entry.uid, gid, [entry.gid, *users.supplementary_groups(root, name)])
    raise UserError(f"no user {name!r} in the container's /etc/passwd (give UID[:GID])")


def apparmor_profile(pid: int) -> str | None:
    if not os.path.exists("/sys/kernel/security/apparmor"):
        return None
    label = security_label(pid)
    if not label or label.startswith("unconfined"):
        return None
    return label.rsplit(" (", 1)[0]


def host_login_shell() -> list[str]:
    return [users.login_shell(), "-l"]
