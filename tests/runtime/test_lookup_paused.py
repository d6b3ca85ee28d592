"""A paused or frozen target: every front end (attach and exec by name or PID, gdb
--batch, doctor) refuses it with the same one line and fix, exits non-zero, and
leaves nothing behind (no process of ours, nothing in the container's cgroups or
mount table)."""

from __future__ import annotations

import os
import select
import subprocess
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from cntr_tui.linux.cgroups import cgroup_mounts
from tests.support.cli import CNTR_TUI
from tests.support.proc import processes_with_environment
from tests.support.runtimes import TEST_PREFIX, StartContainer

MARK = "CNTR_TEST_PAUSED_RUN"


def front_ends(words: list[str]) -> list[list[str]]:
    return [
        argv
        for word in words
        for argv in (
            ["attach", word, "--", "true"],
            ["exec", word, "--", "true"],
            ["gdb", word, "--batch", "-ex", "bt"],
            ["doctor", word],
        )
    ]


def cgroup_members(pid: int) -> list[str]:
    """The members of each cgroup the target is in but this test is not (those the test
    shares are the machine's: seen failing when an unrelated process joined one, a v1
    memory cgroup holding the whole machine's session, during a CI run)."""
    lines = Path(f"/proc/{pid}/cgroup").read_text().splitlines()
    ours = set(Path("/proc/self/cgroup").read_text().splitlines())
    members = []
    for mount in cgroup_mounts():
        for line in lines:
            _, _, path = line.split(":", 2)
            if path == "/" or line in ours:
                continue  # the host's root cgroups: everyone's processes come and go
            procs = Path(mount.mount_point + path) / "cgroup.procs"
            if procs.exists():
                members.append(f"{procs}: {procs.read_text().split()}")
    return sorted(set(members))


def refusals(words: list[str], pid: int) -> list[tuple[list[str], int, list[str]]]:
    """Each front end's (argv, exit status, stderr lines) for each word naming the
    target (main process `pid`), run with a mark in its environment; checked to leave
    no process behind and change nothing in the target's cgroups or mounts."""
    results = []
    for argv in front_ends(words):
        mark = uuid.uuid4().hex
        members, mounts = cgroup_members(pid), Path(f"/proc/{pid}/mountinfo").read_text()
        result = subprocess.run(
            [*CNTR_TUI, *argv],
            capture_output=True,
            text=True,
            timeout=60,
            stdin=subprocess.DEVNULL,
            env={**os.environ, MARK: mark},
        )
        assert "Traceback" not in result.stderr, result.stderr
        assert processes_with_environment(f"{MARK}={mark}") == [], argv
        assert cgroup_members(pid) == members, argv
        assert Path(f"/proc/{pid}/mountinfo").read_text() == mounts, argv
        results.append((argv, result.returncode, result.stderr.splitlines()))
    return results


def assert_one_refusal(results: list[tuple[list[str], int, list[str]]], expected: str) -> None:
    for argv, code, lines in results:
        assert code != 0, argv
        assert lines == [expected], (argv, lines)


def test_a_paused_docker_container_is_refused_alike_by_every_front_end(
    start_container: StartContainer,
) -> None:
    started = start_container("docker")
    subprocess.run(["docker", "pause", started.name], check=True, capture_output=True)
    try:
        results = refusals([started.name, str(started.pid)], started.pid)
    finally:
        subprocess.run(["docker", "unpause", started.name], check=True, capture_output=True)
    assert_one_refusal(
        results,
        f"cntr-tui: docker container {started.name} is paused: its processes are frozen, "
        f"so nothing can attach to them (fix: docker unpause {started.name})",
    )


@contextmanager
def frozen_plain_container(
    cgroup: Path, freeze_file: str, frozen: str, thawed: str
) -> Iterator[int]:
    """A plain-namespace process (own PID and mount namespaces) in a new cgroup of
    ours, frozen; thawed, killed and the cgroup removed whatever the test did."""
    cgroup.mkdir()
    launcher = subprocess.Popen(
        ["unshare", "--fork", "--pid", "--mount", "--mount-proc", "--kill-child", "sleep", "600"]
    )
    child = wait_for_child(launcher.pid)
    for pid in (launcher.pid, child):  # the child may be forked before the move
        (cgroup / "cgroup.procs").write_text(str(pid))
    # frozen between its fork and its exec, the child would still be "unshare" (seen in
    # a run under load): the refusal names the program it runs
    comm = Path(f"/proc/{child}/comm")
    while comm.read_text() != "sleep\n":
        os.sched_yield()
    child_exit = os.pidfd_open(child)
    try:
        (cgroup / freeze_file).write_text(frozen)
        yield child
    finally:
        (cgroup / freeze_file).write_text(thawed)  # a v1-frozen process cannot die
        launcher.kill()
        launcher.wait()
        select.select([child_exit], [], [], 10)  # the sleep dies with it (--kill-child)
        os.close(child_exit)
        cgroup.rmdir()


def wait_for_child(parent: int) -> int:
    children = Path(f"/proc/{parent}/task/{parent}/children")
    while not (text := children.read_text().split()):
        os.sched_yield()
    return int(text[0])


def v1_freezer() -> Path:
    for mount in cgroup_mounts():
        if mount.fstype == "cgroup" and "freezer" in mount.super_options.split(","):
            return Path(mount.mount_point)
    pytest.skip("no cgroup v1 freezer hierarchy mounted")


def v2_tree() -> Path:
    for mount in cgroup_mounts():
        if mount.fstype == "cgroup2":
            return Path(mount.mount_point)
    pytest.skip("no cgroup v2 tree mounted")


@pytest.mark.parametrize("version", ["v1", "v2"])
def test_a_frozen_cgroup_is_refused_alike_with_the_write_that_thaws_it(version: str) -> None:
    if version == "v1":
        cgroup, file, frozen, thawed = v1_freezer(), "freezer.state", "FROZEN", "THAWED"
    else:
        cgroup, file, frozen, thawed = v2_tree(), "cgroup.freeze", "1", "0"
    cgroup = cgroup / f"{TEST_PREFIX}frozen-{uuid.uuid4().hex[:8]}"
    with frozen_plain_container(cgroup, file, frozen, thawed) as pid:
        results = refusals([str(pid)], pid)
    assert_one_refusal(
        results,
        f"cntr-tui: process sleep (PID {pid}) is frozen (cgroup {cgroup}, {file}): it "
        f"cannot run, so nothing can attach to it (fix: echo {thawed} > {cgroup}/{file})",
    )
