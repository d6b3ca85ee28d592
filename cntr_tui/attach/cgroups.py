"""A container's cgroups: which `cgroup.procs` files put a process into them, and the
move itself (cgroup v1 hierarchies and the v2 tree alike).

A move waits for an RCU grace period (~10-20 ms on the test bed) unless another move
happened just before: moves made back to back pay it once.
"""

from __future__ import annotations

import os

from cntr_tui.errors import UserError
from cntr_tui.linux.cgroups import cgroup_directories, frozen_v1

SETUP_FAILED = 125  # the status of a session command that could not start (reaper_process.py)


def cgroup_procs_files(pid: int) -> list[str]:
    """The `cgroup.procs` files that put a process into each of `pid`'s cgroups."""
    files: list[str] = []
    for entry, directory in cgroup_directories(pid):
        files.append(os.path.join(directory, "cgroup.procs"))
        if "freezer" in entry.controllers:
            check_not_frozen(directory)
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
    if frozen_v1(directory):
        raise UserError("the container is paused (frozen): unpause it first")
