"""The debugged program never pays for the death of our front end.

Each front end (`cntr-tui gdb --batch`, gdb's console `cntr-tui gdb`, the TUI) runs in a
real terminal (tmux) against a real container (docker, plain namespaces), brings the
multi-threaded demo program into a state (stopped at a breakpoint a worker just hit,
its PC one past the trap; running; ...) and is then SIGKILLed, sent SIGTERM, or loses
its terminal (tmux killed: the kernel's SIGHUP). Within 5 s the program must run on:
alive, untraced, no thread stopped, no trap left in its code, no SIGTRAP pending, no
thread's PC one past a breakpoint, every worker's counter moving; and every process
the front end started (gdb, gdbserver, the guard, helpers) must be gone.

Before the fix, gdbserver's attach helper killed gdbserver the moment the front end
died (and forwarded the terminal's SIGHUP to it): the rewound PC of the thread that
had hit the breakpoint was only in gdbserver's register cache, so the kernel let that
thread go one byte into an instruction: SIGSEGV, the container exits with 139.
"""

from __future__ import annotations

import os
import re
import shlex
import shutil
import signal
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass

import pytest

from tests.frontend_support import (
    Program,
    guard_of,
    guard_outlives_terminal,
    left_over,
    ours,
)
from tests.proc_support import wait_until
from tests.test_app_tmux import CNTR_TUI, SCREEN_DEADLINE, Terminal, open_debugger

BREAKPOINT_AT = re.compile(r"Breakpoint 1 at (0x[0-9a-f]+)")
HANGUP = "SIGHUP (terminal closed)"
ENDINGS = ["SIGKILL", "SIGTERM", HANGUP]


@pytest.fixture(autouse=True)
def need_tmux() -> None:
    if shutil.which("tmux") is None:
        if os.environ.get("CI") == "true":
            pytest.fail("tmux must be installed in CI (add it to scripts/setup.sh)")
        pytest.skip("tmux is not installed")


@pytest.fixture
def terminals() -> Iterator[list[Terminal]]:
    opened: list[Terminal] = []
    yield opened
    for each in opened:
        each.close()


@dataclass(frozen=True)
class State:
    """Program state to reach: gdb commands, and when it is reached (the program, the
    breakpoint's address if any, the screen)."""

    name: str
    commands: tuple[str, ...]
    reached: Callable[[Program, int | None], bool]
    shown: str | None = None  # on screen once reached (console, TUI)


def just_hit(program: Program, breakpoint_: int | None) -> bool:
    """Every thread stopped, a worker's PC one past the breakpoint's trap."""
    return (
        breakpoint_ is not None
        and all(state == "t" for state in program.thread_states())
        and bool(program.stopped_past({breakpoint_}))
    )


STOPPED_AT_HIT = State("stopped at a hit breakpoint", ("break tick", "continue"), just_hit, "hit")


# ---- the front ends, each in its own terminal -----------------------------------------


class Frontend:
    """One front end in a tmux terminal, attached to the container named `word`."""

    name = ""

    def __init__(self, terminal: Terminal, word: str, listed_as: str):
        self.terminal = terminal
        self.word = word
        self.listed_as = listed_as  # the TUI's filter text that shows just this one

    @classmethod
    def command(cls, word: str, commands: tuple[str, ...]) -> str:
        raise NotImplementedError

    def bring(self, state: State) -> None:
        """Reach `state` (the batch front end got its commands on its command line)."""

    def pid(self) -> int:
        return self.terminal.app_pid()


class Batch(Frontend):
    name = "--batch"

    @classmethod
    def command(cls, word: str, commands: tuple[str, ...]) -> str:
        # `shell sleep` keeps the front end (and gdb) busy while the program is held
        arguments = [str(CNTR_TUI), "gdb", word, "--batch"]
        for command in (*commands, "shell sleep 600"):
            arguments += ["-ex", command]
        return shlex.join(arguments)


class Console(Frontend):
    name = "console"

    @classmethod
    def command(cls, word: str, commands: tuple[str, ...]) -> str:
        return shlex.join([str(CNTR_TUI), "gdb", word])

    def bring(self, state: State) -> None:
        term = self.terminal
        term.wait_for(lambda s: s.rstrip().endswith("(gdb)"), "gdb's prompt", SCREEN_DEADLINE)
        for command in state.commands:
            term.text(command)
            term.keys("Enter")
            if command.startswith("break"):
                term.wait_for(lambda s: "Breakpoint 1 at" in s, "the breakpoint", 20)


class Tui(Frontend):
    name = "TUI"

    @classmethod
    def command(cls, word: str, commands: tuple[str, ...]) -> str:
        return shlex.quote(str(CNTR_TUI))

    def bring(self, state: State) -> None:
        term = self.terminal
        open_debugger(term, self.listed_as)
        term.keys(":")
        term.wait_for(lambda s: "f5 Continue" in s, "the console focused", 10)
        for command in state.commands:
            term.text(command)
            term.keys("Enter")
            if command.startswith("break"):
                term.wait_for(lambda s: "Breakpoint 1 at" in s, "gdb's reply", 20)


FRONTENDS = [Batch, Console, Tui]


# ---- one case ------------------------------------------------------------------------


def end_frontend(ending: str, frontend: Frontend) -> None:
    if ending == HANGUP:
        frontend.terminal.close()  # the terminal goes: the kernel sends SIGHUP
    else:
        os.kill(frontend.pid(), getattr(signal, ending))


def run_case(
    start_container, terminals: list[Terminal], runtime: str, kind: type[Frontend], ending: str
) -> None:
    state = STOPPED_AT_HIT
    container = start_container(runtime)
    word = container.name if runtime == "docker" else str(container.pid)
    # a plain-namespace container is listed under its command's name: by runtime and PID
    listed_as = container.name if runtime == "docker" else f"process {container.pid}"
    program = Program.of(container.pid)
    terminal = Terminal(kind.command(word, state.commands))
    terminals.append(terminal)
    frontend = kind(terminal, word, listed_as)
    frontend.bring(state)
    found = terminal.wait_for(BREAKPOINT_AT.search, "the breakpoint's address", SCREEN_DEADLINE)
    match = BREAKPOINT_AT.search(found)
    assert match is not None
    breakpoint_ = int(match.group(1), 16)
    assert wait_until(lambda: state.reached(program, breakpoint_), 30), (
        program.thread_states(),
        program.program_counters(),
        hex(breakpoint_),
        terminal.screen(),
    )
    frontend_pid = frontend.pid()
    started = ours(frontend_pid)
    guard = guard_outlives_terminal(guard_of(started, container.pid), frontend_pid)
    since = time.monotonic()
    end_frontend(ending, frontend)
    program.assert_runs_on({breakpoint_}, since)
    assert all(guard.values()), guard
    assert wait_until(lambda: not left_over(started), 15), left_over(started)


@pytest.mark.parametrize("ending", ENDINGS)
@pytest.mark.parametrize("kind", FRONTENDS, ids=lambda kind: kind.name)
@pytest.mark.parametrize("runtime", ["docker", "process"])
def test_stopped_at_a_hit_breakpoint_the_program_survives_the_front_end(
    start_container, terminals, runtime: str, kind: type[Frontend], ending: str
) -> None:
    run_case(start_container, terminals, runtime, kind, ending)
