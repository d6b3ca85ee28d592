"""End to end: the real `cntr-tui` binary in a real terminal (tmux), driven by keys.

From the container list to a stopped program with its source, a breakpoint set from
the gdb console, `q` detaching; and SIGTERM while attached restoring the terminal and
leaving the process running.
"""

from __future__ import annotations

import os
import shlex
import shutil
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from tests.proc_support import tracer_of

CNTR_TUI = Path(sys.executable).with_name("cntr-tui")
SCREEN_DEADLINE = 60.0


@pytest.fixture(autouse=True)
def need_tmux() -> None:
    """Like the runtimes of the test bed: skipped on a laptop without tmux, a failure
    in CI (scripts/setup.sh installs it)."""
    if shutil.which("tmux") is None:
        if os.environ.get("CI") == "true":
            pytest.fail("tmux must be installed in CI (add it to scripts/setup.sh)")
        pytest.skip("tmux is not installed")


class Terminal:
    """One tmux server of our own (its own socket), one 160x48 window."""

    def __init__(self, command: str) -> None:
        self.socket = f"cntr-test-{uuid.uuid4().hex[:8]}"
        # The shell reports how the app ended and keeps the pane open to read it.
        # COLUMNS/LINES (set under pytest) would override the window's real size.
        script = (
            f"unset COLUMNS LINES; export TERM=xterm-256color; {command}; "
            'echo "cntr-tui exited $?"; exec sleep 600'
        )
        self.tmux(
            "-f",
            "/dev/null",
            "new-session",
            "-d",
            "-s",
            "t",
            "-x",
            "160",
            "-y",
            "48",
            "sh",
            "-c",
            script,
        )

    def tmux(self, *args: str) -> str:
        result = subprocess.run(
            ["tmux", "-L", self.socket, *args], capture_output=True, text=True, check=True
        )
        return result.stdout

    def screen(self) -> str:
        return self.tmux("capture-pane", "-p", "-t", "t")

    def keys(self, *keys: str) -> None:
        self.tmux("send-keys", "-t", "t", *keys)

    def text(self, text: str) -> None:
        self.tmux("send-keys", "-t", "t", "-l", text)

    def wait_for(self, condition: Callable[[str], object], what: str, deadline: float) -> str:
        end = time.monotonic() + deadline
        while True:
            shown = self.screen()
            if condition(shown):
                return shown
            if time.monotonic() > end:
                raise AssertionError(f"{what} not on screen after {deadline:.0f}s:\n{shown}")
            time.sleep(0.1)  # polling the screen: tmux has no change notification

    def alternate_screen(self) -> bool:
        return self.tmux("display-message", "-p", "-t", "t", "#{alternate_on}").strip() == "1"

    def app_pid(self) -> int:
        shell = int(self.tmux("display-message", "-p", "-t", "t", "#{pane_pid}"))
        children = Path(f"/proc/{shell}/task/{shell}/children").read_text().split()
        return int(children[0])

    def close(self) -> None:
        subprocess.run(["tmux", "-L", self.socket, "kill-server"], capture_output=True)
        # kill-server leaves the socket file behind
        folder = Path(os.environ.get("TMUX_TMPDIR", "/tmp")) / f"tmux-{os.getuid()}"
        (folder / self.socket).unlink(missing_ok=True)


@pytest.fixture
def terminal() -> Iterator[Callable[[str], Terminal]]:
    opened: list[Terminal] = []

    def open_terminal(command: str) -> Terminal:
        opened.append(Terminal(command))
        return opened[-1]

    yield open_terminal
    for each in opened:
        each.close()


def open_debugger(term: Terminal, name: str) -> None:
    term.wait_for(lambda s: "containers" in s and "Debug" in s, "the list", SCREEN_DEADLINE)
    term.keys("/")
    term.wait_for(lambda s: "typing a filter" in s, "the filter field", 10)
    term.text(name)  # other containers may fill the screen: filter to ours
    # The name is in the filter field at once; its row once the list has it.
    term.wait_for(lambda s: ", 1 shown" in s, "the container in the list", SCREEN_DEADLINE)
    term.keys("Enter")  # leaves the filter, the table has the one row
    term.wait_for(lambda s: "filtered by" in s, "the filter kept", 10)
    term.keys("g")
    term.wait_for(
        lambda s: "threads.c" in s and "worker-2" in s and "stopped" in s,
        "threads and the source",
        SCREEN_DEADLINE,
    )


def test_list_to_stopped_program_with_source_then_quit(start_container, terminal) -> None:
    started = start_container("docker")
    term = terminal(shlex.quote(str(CNTR_TUI)))
    open_debugger(term, started.name)
    assert tracer_of(started.pid) != 0

    term.keys(":")
    term.wait_for(lambda s: "f5 Continue" in s, "the console focused", 10)
    term.text("break tick")
    term.keys("Enter")
    term.wait_for(lambda s: "Breakpoint 1 at" in s, "gdb's reply in the console", 20)
    term.keys("Escape")  # out of the console, still attached
    # Wait until the keys are the panes' again: an Escape followed at once by `c`
    # would reach the app as Alt+C.
    term.wait_for(lambda s: " c Continue" in s, "the debugger keys in the footer", 10)
    term.keys("c")
    shown = term.wait_for(lambda s: "breakpoint hit" in s, "the stop in tick", 30)
    assert "tick" in shown and "w->iterations++" in shown

    term.keys("q")
    term.wait_for(lambda s: "cntr-tui exited 0" in s, "the app to exit", 30)
    assert not term.alternate_screen()
    assert tracer_of(started.pid) == 0  # detached; the process runs on
    assert Path(f"/proc/{started.pid}").exists()


def test_sigterm_while_attached_detaches_and_restores_terminal(start_container, terminal) -> None:
    started = start_container("docker")
    term = terminal(shlex.quote(str(CNTR_TUI)))
    open_debugger(term, started.name)
    assert term.alternate_screen()
    subprocess.run(["kill", "-TERM", str(term.app_pid())], check=True)
    term.wait_for(lambda s: "cntr-tui exited" in s, "the app to exit", 30)
    assert not term.alternate_screen()
    assert tracer_of(started.pid) == 0
    state = Path(f"/proc/{started.pid}/stat").read_text().rpartition(")")[2].split()[0]
    assert state in "RS"


def test_shell_key_suspends_the_app_and_comes_back(start_container, terminal) -> None:
    started = start_container("docker")
    term = terminal(shlex.quote(str(CNTR_TUI)))
    term.wait_for(lambda s: "containers" in s and "Debug" in s, "the list", SCREEN_DEADLINE)
    term.keys("/")
    term.wait_for(lambda s: "typing a filter" in s, "the filter field", 10)
    term.text(started.name)
    term.wait_for(lambda s: ", 1 shown" in s, "the container in the list", SCREEN_DEADLINE)
    term.keys("Enter")
    term.wait_for(lambda s: "filtered by" in s, "the filter kept", 10)
    term.keys("s")
    term.wait_for(lambda s: f"shell in {started.name}" in s, "the shell", 30)
    assert not term.alternate_screen()  # the app is suspended, the shell has the terminal
    term.text("ls /var/lib/cntr/app/src; echo shell-done-$((6*7))")
    term.keys("Enter")
    term.wait_for(lambda s: "threads.c" in s and "shell-done-42" in s, "the shell's output", 20)
    term.text("exit")
    term.keys("Enter")
    term.wait_for(lambda s: "filtered by" in s and started.name in s, "the app back", 20)
    assert term.alternate_screen()
    term.keys("q")
    term.wait_for(lambda s: "cntr-tui exited 0" in s, "the app to exit", 30)
