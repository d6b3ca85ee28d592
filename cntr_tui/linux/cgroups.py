"""cgroups of a process: its membership (/proc/PID/cgroup), the folder of each in
the host's cgroup mounts, and whether one is frozen (v1 freezer.state, v2
cgroup.freeze and cgroup.events)."""

from __future__ import annotations

import os
from dataclasses import dataclass

from cntr_tui.linux.mountinfo import MountEntry, read_mountinfo
from cntr_tui.linux.procfs import read_text

V1_FROZEN_STATES = ("FROZEN", "FREEZING")


@dataclass(frozen=True)
class CgroupEntry:
    """One line of `/proc/PID/cgroup`: hierarchy 0 with no controllers is cgroup v2."""

    hierarchy: int
    controllers: tuple[str, ...]
    path: str

    @property
    def is_v2(self) -> bool:
        return self.hierarchy == 0 and self.controllers == ()


def cgroups(pid: int) -> list[CgroupEntry]:
    """The cgroups of `pid`, as the kernel lists them (paths relative to each mount)."""
    entries: list[CgroupEntry] = []
    for line in read_text(pid, "cgroup").splitlines():
        hierarchy, controllers, path = line.split(":", 2)
        entries.append(
            CgroupEntry(int(hierarchy), tuple(filter(None, controllers.split(","))), path)
        )
    return entries


def cgroup_mounts() -> list[MountEntry]:
    """This process's cgroup (v1) and cgroup2 mounts."""
    return [m for m in read_mountinfo("self") if m.fstype in ("cgroup", "cgroup2")]


def mount_of(entry: CgroupEntry, mounts: list[MountEntry]) -> MountEntry | None:
    """The mount that holds `entry`'s hierarchy (v2: a cgroup2 mount; v1: one with all
    of its controllers). Of several, the one whose root holds the entry's path, the
    deepest such root first: inside a node debug pod `/sys/fs/cgroup` is rooted at the
    pod's own cgroup and only the node's (`/host/sys/fs/cgroup`) holds a container's."""
    candidates = [mount for mount in mounts if _holds_hierarchy(mount, entry)]
    holding = [mount for mount in candidates if _root_holds(mount.root, entry.path)]
    if holding:
        return max(holding, key=lambda mount: len(mount.root.rstrip("/")))
    return candidates[0] if candidates else None


def _holds_hierarchy(mount: MountEntry, entry: CgroupEntry) -> bool:
    if entry.is_v2:
        return mount.fstype == "cgroup2"
    return mount.fstype == "cgroup" and set(entry.controllers) <= set(
        mount.super_options.split(",")
    )


def _root_holds(root: str, path: str) -> bool:
    root = root.rstrip("/")
    return path == root or path.startswith(root + "/") or root == ""


def cgroup_directories(pid: int) -> list[tuple[CgroupEntry, str]]:
    """Each cgroup of `pid` with its folder in this process's cgroup mounts (cgroups
    of hierarchies not mounted here are left out)."""
    mounts = cgroup_mounts()
    found: list[tuple[CgroupEntry, str]] = []
    for entry in cgroups(pid):
        mount = mount_of(entry, mounts)
        if mount is not None:
            relative = entry.path.removeprefix(mount.root.rstrip("/"))
            directory = mount.mount_point + "/" + relative.lstrip("/")
            found.append((entry, directory.rstrip("/")))
    return found


def freezer_state(directory: str) -> str | None:
    """cgroup v1's freezer.state of a freezer cgroup (THAWED, FREEZING, FROZEN), None
    without one."""
    try:
        with open(os.path.join(directory, "freezer.state")) as file:
            return file.read().strip()
    except OSError:
        return None


def frozen_v1(directory: str) -> bool:
    return freezer_state(directory) in V1_FROZEN_STATES


def read_key_values(path: str) -> dict[str, str]:
    """`key value` lines (a lone value under the key ""); {} for a missing file."""
    try:
        with open(path) as file:
            lines = file.read().splitlines()
    except OSError:
        return {}
    fields = {}
    for line in lines:
        key, _, value = line.rpartition(" ")
        fields[key] = value
    return fields


def frozen_v2(directory: str) -> bool:
    """A cgroup v2 frozen (cgroup.events says so) or being frozen (cgroup.freeze is 1)."""
    events = read_key_values(os.path.join(directory, "cgroup.events"))
    freeze = read_key_values(os.path.join(directory, "cgroup.freeze"))
    return events.get("frozen") == "1" or freeze.get("") == "1"
