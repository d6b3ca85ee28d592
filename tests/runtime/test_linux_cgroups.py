"""cntr_tui.linux.cgroups on real cgroups: a process's folders in the host's cgroup
mounts, and a v1 freezer cgroup of our own, frozen then thawed (removed after)."""

from __future__ import annotations

import os
import subprocess
import time
import uuid
from pathlib import Path

import pytest

from cntr_tui.attach.cgroups import cgroup_procs_files
from cntr_tui.errors import UserError
from cntr_tui.linux.cgroups import (
    cgroup_directories,
    cgroup_mounts,
    cgroups,
    freezer_state,
    frozen_v1,
    frozen_v2,
)
from tests.support.runtimes import TEST_PREFIX

FREEZE_DEADLINE = 10.0


def test_each_cgroup_folder_lists_the_process() -> None:
    sleeper = subprocess.Popen(["sleep", "600"])
    try:
        found = cgroup_directories(sleeper.pid)
        assert found, "at least one cgroup hierarchy is mounted"
        assert {entry for entry, _ in found} <= set(cgroups(sleeper.pid))
        for _, directory in found:
            procs = Path(directory, "cgroup.procs").read_text().split()
            assert str(sleeper.pid) in procs, directory
            assert not frozen_v1(directory) and not frozen_v2(directory)
    finally:
        sleeper.kill()
        sleeper.wait()


def freezer_mount() -> str:
    for mount in cgroup_mounts():
        if mount.fstype == "cgroup" and "freezer" in mount.super_options.split(","):
            return mount.mount_point
    pytest.skip("no cgroup v1 freezer hierarchy mounted")


def wait_for_state(directory: Path, wanted: str) -> str | None:
    # freezer.state has no event to wait on: poll it, with a deadline
    deadline = time.monotonic() + FREEZE_DEADLINE
    while (state := freezer_state(str(directory))) != wanted and time.monotonic() < deadline:
        time.sleep(0.01)
    return state


def test_v1_freezer_of_our_own_cgroup() -> None:
    cgroup = Path(freezer_mount()) / f"{TEST_PREFIX}freeze-{uuid.uuid4().hex[:8]}"
    cgroup.mkdir()
    sleeper = subprocess.Popen(["sleep", "600"])
    try:
        (cgroup / "cgroup.procs").write_text(str(sleeper.pid))
        assert freezer_state(str(cgroup)) == "THAWED" and not frozen_v1(str(cgroup))
        assert str(cgroup) in [directory for _, directory in cgroup_directories(sleeper.pid)]
        (cgroup / "freezer.state").write_text("FROZEN")
        assert wait_for_state(cgroup, "FROZEN") == "FROZEN"
        assert frozen_v1(str(cgroup))
        with pytest.raises(UserError, match="paused"):
            cgroup_procs_files(sleeper.pid)
    finally:
        (cgroup / "freezer.state").write_text("THAWED")
        sleeper.kill()
        sleeper.wait()
        os.rmdir(cgroup)
    assert freezer_state(str(cgroup)) is None
