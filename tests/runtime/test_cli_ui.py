"""`cntr-tui ui [-t TYPES] [--debugger] CONTAINER` (what `kubectl cntr` runs in its node
pod): a word that names no container is the lookup's one-line error before any UI; a
real docker container's full id (as the kubelet reports it) starts the TUI with that
container selected, and `--debugger` opens the debugger on it at once."""

from __future__ import annotations

import os
import shlex
import shutil
import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from cntr_tui.demo import containers
from tests.support.proc import tracer_of
from tests.support.runtimes import require_runtime
from tests.support.terminal import CNTR_TUI, SCREEN_DEADLINE, Terminal

PREFIX = "cntr-test-kube-"


@pytest.fixture
def need_tmux() -> None:
    if shutil.which("tmux") is None:
        if os.environ.get("CI") == "true":
            pytest.fail("tmux must be installed in CI (add it to scripts/setup.sh)")
        pytest.skip("tmux is not installed")


@pytest.fixture
def two_containers(demo_rootfs: Path) -> Iterator[tuple[containers.StartedContainer, str]]:
    """A decoy that sorts first by name, and the target with its full docker id."""
    require_runtime("docker")
    tag = uuid.uuid4().hex[:8]
    started = []
    try:
        for role in ("a-decoy", "z-target"):
            started.append(containers.STARTERS["docker"](f"{PREFIX}{role}-{tag}", demo_rootfs))
        target = started[-1]
        full_id = subprocess.run(
            ["docker", "inspect", "-f", "{{.Id}}", target.name],
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
        yield target, full_id
    finally:
        for container in reversed(started):
            container.remove()


@pytest.fixture
def terminal() -> Iterator[list[Terminal]]:
    opened: list[Terminal] = []
    yield opened
    for each in opened:
        each.close()


@pytest.mark.parametrize(
    ("words", "expected"),
    [
        (["-t", "docker", f"{PREFIX}no-such-{uuid.uuid4().hex[:8]}"], "no-such"),
        (["--debugger"], "--debugger opens the debugger on a CONTAINER"),
    ],
)
def test_a_bad_name_is_one_line_and_exit_1_before_any_ui(words: list[str], expected: str) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "cntr_tui.cli", "ui", *words],
        capture_output=True,
        text=True,
        timeout=60,
        stdin=subprocess.DEVNULL,
    )
    assert result.returncode == 1, result.stderr
    assert result.stdout == ""  # no UI drew anything
    lines = result.stderr.splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("cntr-tui: ") and expected in lines[0]
    assert "Traceback" not in result.stderr


def details_name(screen: str) -> str | None:
    """The name at the top of the details pane (the right-hand box's first line)."""
    for line in screen.splitlines():
        if "││" in line:
            return line.split("││", 1)[1].strip(" │") or None
    return None


def test_the_tui_starts_with_the_container_selected(need_tmux, two_containers, terminal) -> None:
    target, full_id = two_containers
    term = Terminal(f"{shlex.quote(str(CNTR_TUI))} ui -t docker {full_id}")
    terminal.append(term)
    shown = term.wait_for(
        lambda s: target.name in s and "host PID" in s and "Quit" in s,
        "the list with the target's details",
        SCREEN_DEADLINE,
    )
    assert details_name(shown) == target.name, shown
    assert f"host PID {target.pid}" in shown
    term.keys("q")
    term.wait_for(lambda s: "cntr-tui exited 0" in s, "the app to exit", 30)


def target_state(target: containers.StartedContainer) -> str:
    """What became of the target, for a failure's message. Without a dialog, the list
    comes back by itself only when the session ends or the process goes (told in a toast
    that fades in 8 s), as when a parallel run's sweep of cntr-test- containers or its
    stop of dockerd ends the target; the thread names tell whether worker-2 was there."""
    inspected = subprocess.run(
        ["docker", "inspect", "-f", "{{.State.Status}} {{.State.Pid}}", target.name],
        capture_output=True,
        text=True,
    )
    docker = inspected.stdout.strip() or inspected.stderr.strip()
    try:
        tasks = Path(f"/proc/{target.pid}/task").iterdir()
        names = sorted((task / "comm").read_text().strip() for task in tasks)
    except OSError as error:
        names = [f"unreadable ({error.strerror})"]
    return f"docker: {docker}; PID {target.pid}'s threads: {', '.join(names)}"


def test_debugger_opens_the_debugger_on_it_at_once(need_tmux, two_containers, terminal) -> None:
    target, full_id = two_containers
    term = Terminal(f"{shlex.quote(str(CNTR_TUI))} ui -t docker --debugger {full_id}")
    terminal.append(term)
    try:
        term.wait_for(
            lambda s: "threads.c" in s and "worker-2" in s and "stopped" in s,
            "threads and the source",
            SCREEN_DEADLINE,
        )
    except AssertionError as error:
        raise AssertionError(f"{error}\nthe target then: {target_state(target)}") from None
    assert tracer_of(target.pid) != 0
    term.keys("q")
    term.wait_for(lambda s: "cntr-tui exited 0" in s, "the app to exit", 30)
    assert tracer_of(target.pid) == 0  # detached; the program runs on
    assert Path(f"/proc/{target.pid}").exists()
