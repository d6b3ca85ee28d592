"""Users and groups: names of ids on the host (pwd), and look-ups in another root's
/etc/passwd and /etc/group (a container's, through /proc/PID/root), which the C
library's pwd and grp cannot be pointed at."""

from __future__ import annotations

import os
import pwd
from dataclasses import dataclass


@dataclass(frozen=True)
class PasswdEntry:
    name: str
    uid: int
    gid: int
    home: str
    shell: str


def user_name(uid: int) -> str:
    """The host's name of `uid`, or the number when it has none."""
    try:
        return pwd.getpwuid(uid).pw_name
    except KeyError:
        return str(uid)


def login_shell() -> str:
    """This process's user's login shell on the host (/bin/sh when it has none)."""
    try:
        return pwd.getpwuid(os.getuid()).pw_shell or "/bin/sh"
    except KeyError:
        return "/bin/sh"


def colon_file(path: str) -> list[list[str]]:
    """The fields of each `a:b:c` line; [] for a file that cannot be read."""
    try:
        with open(path, errors="replace") as file:
            return [line.rstrip("\n").split(":") for line in file if ":" in line]
    except OSError:
        return []


def find_user(root: str, name: str) -> PasswdEntry | None:
    """`name` in ROOT/etc/passwd."""
    for fields in colon_file(os.path.join(root, "etc/passwd")):
        if len(fields) >= 4 and fields[0] == name:
            home = fields[5] if len(fields) > 5 else ""
            shell = fields[6] if len(fields) > 6 else ""
            return PasswdEntry(name, int(fields[2]), int(fields[3]), home, shell)
    return None


def supplementary_groups(root: str, name: str) -> list[int]:
    """The gids of ROOT/etc/group that list `name` as a member."""
    return [
        int(fields[2])
        for fields in colon_file(os.path.join(root, "etc/group"))
        if len(fields) >= 4 and name in fields[3].split(",") and fields[2].isdigit()
    ]
