"""A container's cgroups: which `cgroup.procs` files put a process into them, and the
move itself (cgroup v1 hierarchies and the v2 tree alike).

A move waits for an RCU grace period (~10-20 ms on the test bed) unless another move
happened just before: moves made back to back pay it once.
"""

from __future__ import annotations

import contextlib
import os

from cntr_tui.attach import process
from cntr_tui.errors import UserError
from cntr_tui.fs.mounts import Mount, read_mountinfo

SETUP_FAILED = 125  # the status of a session command that could not start (reaper.py)


def cgroup_mounts() -> list[Mount]:
    return [m for m in read_mountinfo("self") if m.fstype in ("cgroup", "cgroup2")]


def cgroup_procs_files(pid: int) -> list[str]:
    """The `cgroup.procs` files that put a process into each of `pid`'s cgroups."""
    mounts = cgroup_mounts()
    files: list[str] = []
    for entry in process.cgroups(pid):
        for mount in mounts:
            if entry.hierarchy == 0 and entry.controllers == ():
                matches = mount.fstype == "cgroup2"
            else:
                options = set(mount.super_options.split(","))
                matches = mount.fstype == "cgroup" and set(entry.controllers) <= options
            if matches:
                relative = entry.path.removeprefix(mount.root.rstrip("/"))
                directory = mount.mount_point + "/" + relative.lstrip("/")
                files.append(os.path.join(directory.rstrip("/"), "cgroup.procs"))
                if "freezer" in entry.controllers:
                    check_not_frozen(directory)
                break
    return files


def join_cgroups(pid: int, procs_files: list[str]) -> None:
    """Move `pid` (a helper, before it enters anything) into the container's cgroups."""
    for path in procs_files:
        try:
            with open(path, "w") as file:
                file.write(str(pid))
        except OSError as error:
            where = os.path.dirname(path)
            raise UserError(f"cannot join cgroup {where}: {error.strerror}", SETUP_FAILED) from None


def check_not_frozen(directory: str) -> None:
    with contextlib.suppress(OSError), open(os.path.join(directory, "freezer.state")) as file:
        if file.read().strip() in ("FROZEN", "FREEZING"):
            raise UserError("the container is paused (frozen): unpause it first")
