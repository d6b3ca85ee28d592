"""POSIX conformance through the merged root: the cases of tests/support/posix_cases.py
run on a host folder directly, then on the same folder from inside an attach session
(FUSE mode and mount mode), must give the same results step by step.

The runner is the host's /usr/bin/python3 running the cases file by its host path:
inside a session the merged root's `/` is the host's, so both are there.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from cntr_tui.attach.session import AttachOptions, AttachSession
from cntr_tui.demo import containers
from tests.support import posix_cases
from tests.support.runtimes import require_runtime

CASES_FILE = Path(posix_cases.__file__).resolve()
PREFIX = "cntr-test-posix-"
Results = dict[str, list[list[str]]]


@pytest.fixture(scope="module")
def container(demo_rootfs: Path) -> Iterator[containers.StartedContainer]:
    require_runtime("docker")
    started = containers.start_docker(f"{PREFIX}{uuid.uuid4().hex[:8]}", demo_rootfs)
    try:
        yield started
    finally:
        started.remove()


@pytest.fixture
def folder() -> Iterator[Path]:
    """A fresh host folder on the host's disk (/var/tmp is ext4 here, not a tmpfs)."""
    path = Path("/var/tmp") / f"{PREFIX}{uuid.uuid4().hex[:8]}"
    path.mkdir(mode=0o755)
    os.chmod(path, 0o755)  # nobody (the permission cases) must be able to enter it
    yield path
    shutil.rmtree(path, ignore_errors=True)


def python3() -> str:
    found = shutil.which("python3", path="/usr/bin:/bin")
    assert found, "the host's python3 runs inside through the merged root"
    return found


def parse(out: bytes, err: bytes, code: int | None) -> Results:
    assert code == 0, err.decode(errors="replace")
    return json.loads(out)


def on_host(folder: Path, names: tuple[str, ...] = ()) -> Results:
    run = subprocess.run(
        [python3(), str(CASES_FILE), str(folder), *names], capture_output=True, timeout=300
    )
    return parse(run.stdout, run.stderr, run.returncode)


def in_session(pid: int, fs: str, folder: Path, names: tuple[str, ...] = ()) -> Results:
    with AttachSession(pid, AttachOptions(fs=fs)) as session:
        proc = session.spawn(
            [python3(), str(CASES_FILE), str(folder), *names],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
        )
        out, err = proc.communicate(timeout=300)
    return parse(out, err, proc.returncode)


def unmet(results: Results) -> list[str]:
    return [
        f"{case}: {label}: saw {seen}, expected {expected}"
        for case, steps in results.items()
        for label, seen, expected in steps
        if seen != expected
    ]


def differences(host: Results, other: Results, name: str) -> list[str]:
    """A table of the steps where `other` differs from the host, case by case (steps
    compared in order: a case that ended early shows its missing steps)."""
    rows = []
    for case, steps in host.items():
        theirs = other.get(case, [])
        for index in range(max(len(steps), len(theirs))):
            ours = steps[index][:2] if index < len(steps) else ["(not run)", "(not run)"]
            seen = theirs[index][:2] if index < len(theirs) else [ours[0], "(not run)"]
            if ours != seen:
                label = ours[0] if ours[0] == seen[0] else f"{ours[0]} / {seen[0]}"
                rows.append(f"| {case} | {label} | {ours[1]} | {seen[1]} |")
    if not rows:
        return []
    return [f"| case | step | host | {name} |", "|---|---|---|---|", *rows]


def test_the_host_meets_the_specification(folder: Path) -> None:
    """The table's expectations are what the host's own file system does: so a
    difference in the session is a difference from POSIX, not a wrong table."""
    (folder / "host").mkdir()
    results = on_host(folder / "host")
    assert set(results) == set(posix_cases.CASES)
    steps = sum(len(steps) for steps in results.values())
    assert steps > 250, steps
    assert unmet(results) == []


@pytest.mark.parametrize("fs", ["fuse", "mount"])
def test_the_merged_root_behaves_like_the_host(container, folder: Path, fs: str) -> None:
    (folder / "host").mkdir()
    (folder / "seen").mkdir()
    host = on_host(folder / "host")
    inside = in_session(container.pid, fs, folder / "seen")
    table = differences(host, inside, f"--fs {fs}")
    assert not table, "\n" + "\n".join(table)
    assert unmet(host) == []


@pytest.mark.parametrize("fs", ["fuse", "mount"])
def test_deep_paths_fail_where_the_host_fails(container, folder: Path, fs: str) -> None:
    """Create, stat, rename and unlink 4,000 bytes and more below the folder; a path
    string of 4,096 bytes is ENAMETOOLONG on both sides, one of 4,095 is not."""
    names = posix_cases.DEEP_CASES
    (folder / "host").mkdir()
    (folder / "seen").mkdir()
    host = on_host(folder / "host", names)
    inside = in_session(container.pid, fs, folder / "seen", names)
    assert unmet(host) == []
    table = differences(host, inside, f"--fs {fs}")
    assert not table, "\n" + "\n".join(table)
    steps = dict((label, seen) for label, seen, _ in inside["deep_relative_walk"])
    assert steps["create by a 4,000-byte relative path"] == "ok"
    assert steps["stat at 4096"] == "ENAMETOOLONG"
