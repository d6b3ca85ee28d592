"""The runtimes the test bed runs: names, the prefix of every test container, and how a
test that needs one is skipped (failed under CI) when the machine lacks it."""

from __future__ import annotations

import os
import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest

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
