"""The runtimes the test bed runs: names, the prefix of every test container, and how a
test that needs one is skipped (failed under CI) when the machine lacks it."""

from __future__ import annotations

import os
import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest

from cntr_tui.attach.container import Container
from cntr_tui.demo import containers
from cntr_tui.demo.availability import unavailable_reason

ALL_RUNTIMES = ("docker", "podman", "containerd", "lxc", "nspawn", "process")


TEST_PREFIX = "cntr-test-"


StartContainer = Callable[..., containers.StartedContainer]


def require_runtime(runtime: str) -> None:
    reason = unavailable_reason(runtime)
    if reason is None:
        return
    if os.environ.get("CI") == "true":
        pytest.fail(f"{runtime} must run in CI: {reason}")
    pytest.skip(f"{runtime}: {reason}")


def start_program(rootfs: Path, name: str) -> subprocess.Popen[bytes]:
    process = subprocess.Popen(["chroot", str(rootfs), f"/app/{name}"], stdout=subprocess.PIPE)
    assert process.stdout is not None
    assert process.stdout.readline().startswith(b"ready")  # the program says when it is
    return process


def word_for(started: containers.StartedContainer) -> str:
    """The word a user gives cntr-tui for a started test container: its name, or for a
    plain-namespace process (its name is its command's, shared by others) its PID."""
    return str(started.pid) if started.runtime == "process" else started.name


def container_of(started: containers.StartedContainer) -> Container:
    """The started container as cntr-tui's look-up finds it by `word_for`."""
    from cntr_tui.attach.lookup import resolve

    return resolve(word_for(started), [started.runtime], warn=lambda message: None)
