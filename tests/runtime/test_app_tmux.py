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
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from tests.support.proc import tracer_of
from tests.support.terminal import CNTR_TUI, SCREEN_DEADLINE, Terminal, open_debugger


@pytest.fixture(autouse=True)
def need_tmux() -> None:
    """Like the runtimes of the test bed: skipped on a laptop without tmux, a failure
    in CI (scripts/setup.sh installs it)."""
    if shutil.which("tmux") is None:
        if os.environ.get("CI") == "true":
            pytest.fail("tmux must be installed in CI (add it to scripts/setup.sh)")
        pytest.skip("tmux is not installed")


@pytest.fixture
def terminal() -> Iterator[Callable[[str], Terminal]]:
    opened: list[Terminal] = []

    def open_terminal(command: str) -> Terminal:
        opened.append(Terminal(command))
        return opened[-1]

    yield open_terminal
    for each in opened:
        each.close()


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
