"""The README's first command ends in `cntr-tui demo`: the UI opens on the demo
container, and quitting it removes the container and leaves no process behind."""

from __future__ import annotations

import os
import select
import subprocess
import sys
import time
from pathlib import Path

import psutil
import pytest

from tests.support.runtimes import require_runtime

SCREEN_DEADLINE = 60.0


def read_until(fd: int, marker: bytes, deadline: float) -> bytes:
    seen = b""
    while marker not in seen:
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise AssertionError(f"{marker!r} not on screen; last output: {seen[-400:]!r}")
        ready, _, _ = select.select([fd], [], [], remaining)
        if ready:
            try:
                chunk = os.read(fd, 65536)
            except OSError:  # the terminal closed: the app exited
                break
            if not chunk:
                break
            seen += chunk
    return seen


def stop(process: subprocess.Popen[bytes]) -> None:
    """SIGTERM first, so the demo removes its container even when the test fails."""
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def demo_programs_under(pid: int) -> list[int]:
    """Running /app/threads processes below `pid` (a short-lived one of the demo's
    start, such as its `hostname`, may be a zombie or gone by the time we ask)."""
    found = []
    for child in psutil.Process(pid).children(recursive=True):
        try:
            if child.cmdline()[:1] == ["/app/threads"]:
                found.append(child.pid)
        except (psutil.ZombieProcess, psutil.NoSuchProcess):
            continue
    return found


@pytest.mark.parametrize("runtime", ["process", "docker"])
def test_demo_opens_ui_and_quit_removes_container(runtime: str) -> None:
    if runtime == "docker":
        require_runtime("docker")
    controller, terminal = os.openpty()
    env = {**os.environ, "TERM": "xterm-256color", "COLUMNS": "120", "LINES": "40"}
    process = subprocess.Popen(
        [sys.executable, "-m", "cntr_tui.cli", "demo", "--runtime", runtime],
        stdin=terminal,
        stdout=terminal,
        stderr=terminal,
        env=env,
        start_new_session=True,
    )
    os.close(terminal)
    try:
        deadline = time.monotonic() + SCREEN_DEADLINE
        read_until(controller, b"Quit", deadline)  # the footer: the app is up
        if runtime == "process":
            programs = demo_programs_under(process.pid)
            assert len(programs) == 1
        else:
            inspect = subprocess.run(
                ["docker", "inspect", "-f", "{{.State.Pid}}", "cntr-tui-demo"],
                capture_output=True,
                text=True,
                check=True,
            )
            programs = [int(inspect.stdout)]
        os.write(controller, b"q")
        assert process.wait(timeout=30) == 0
        for pid in programs:
            assert not Path(f"/proc/{pid}").exists()
        if runtime == "docker":
            names = subprocess.run(
                ["docker", "ps", "-a", "--format", "{{.Names}}"], capture_output=True, text=True
            ).stdout.split()
            assert "cntr-tui-demo" not in names
    finally:
        stop(process)
        os.close(controller)
