"""The debugged program never pays for the death of our front end.

Each front end (`cntr-tui gdb --batch`, gdb's console `cntr-tui gdb`, the TUI) runs in a
real terminal (tmux) against a real container (docker, plain namespaces), brings the
multi-threaded demo program into a state (stopped at a breakpoint a worker just hit,
its PC one past the trap; running; in the middle of next, step, finish (--batch waits
for their stop); interrupted (--batch: a SIGINT to it while continue waits); with a
watchpoint, a logpoint or a syscall catchpoint set; ...) and is then SIGKILLed, sent
SIGTERM, or loses its terminal (tmux killed: the kernel's SIGHUP). Within 5 s the
program must run on: alive, untraced, no thread stopped, no trap left in its code, no
SIGTRAP pending, no thread's PC one past a breakpoint, every worker's counter moving;
and every process the front end started (gdb, gdbserver, the guard, helpers) must be gone.

A SIGTERM or SIGHUP must also be a clean detach (the traps taken out, then gdbserver's
`D`), not the guard's after-the-fact rescue. Witnesses, since after a SIGHUP the
terminal is gone: --batch says who detached (on screen, or on its stderr sent to a file
when its terminal is to close), and "(gdb)" is checked against gdb's MI trace
(CNTR_TUI_GDB_TRACE: `-target-detach` answered `^done`); the TUI says nothing, its MI
trace is the witness; the console's note says the guard detached gdbserver and how many
traps were removed.

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
from pathlib import Path

import psutil
import pytest

from cntr_tui.gdb.trap_rescue import traps_in
from tests.support.frontend import (
    Program,
    gdb_detached,
    guard_detach_removed,
    guard_of,
    guard_outlives_terminal,
    left_over,
    ours,
)
from tests.support.proc import tracer_of, wait_until
from tests.support.runtimes import word_for
from tests.support.terminal import CNTR_TUI, SCREEN_DEADLINE, Terminal, open_debugger

# a dprintf's trap is a breakpoint's, at the address gdb says
BREAKPOINT_AT = re.compile(r"(?:Breakpoint|Dprintf) 1 at (0x[0-9a-f]+)")
SETS_A_TRAP = ("break", "dprintf")
HANGUP = "SIGHUP (terminal closed)"
ENDINGS = ["SIGKILL", "SIGTERM", HANGUP]


@pytest.fixture(autouse=True)
def need_tmux() -> None:
    if shutil.which("tmux") is None:
        if os.environ.get("CI") == "true":
            pytest.fail("tmux must be installed in CI (add it to scripts/setup.sh)")
        pytest.skip("tmux is not installed")


@pytest.fixture
def witness(tmp_path: Path) -> Witness:
    return Witness(tmp_path / "gdb-trace", tmp_path / "stderr")


@pytest.fixture
def terminals() -> Iterator[list[Terminal]]:
    opened: list[Terminal] = []
    yield opened
    for each in opened:
        each.close()


# the console's is Ctrl-C (it takes no command while running); --batch's a SIGINT to it
# while it waits for the program's stop
INTERRUPT = "interrupt"


def all_stopped(program: Program) -> bool:
    return program.all_stopped()


def traced(program: Program) -> bool:
    return tracer_of(program.pid) != 0


@dataclass(frozen=True)
class Step:
    """A gdb command, and (console, TUI) what to wait for before the next one."""

    command: str
    then: Callable[[Program], bool] | None = None


STEPPING_COMMANDS = frozenset({"next", "step", "nexti", "stepi", "until", "advance"})


@dataclass(frozen=True)
class State:
    """A program state to reach by gdb commands; `reached(program, breakpoint address)`;
    `moving`: the program runs under gdb then (its counters move while traced)."""

    name: str
    steps: tuple[Step, ...]
    reached: Callable[[Program, int | None], bool]
    moving: bool = False
    # a measured gap in the clean detach (SIGTERM/SIGHUP) of this state: its witness
    # fails as expected, after every check of the program's survival has passed
    detach_gap: str | None = None
    non_stop: bool = False  # gdb in non-stop mode (`cntr-tui gdb --non-stop`)
    # running threads keep hitting a conditional breakpoint whose condition is false for
    # them: each such hit is a step over its trap, which takes that trap out of the code
    # for the step (gdbserver's own step-over when the condition is evaluated on its
    # side; gdb's z0, step, Z0 otherwise), so the guard may find one trap fewer than the
    # look before the ending (CI, non-stop console SIGHUP: 2 at the look, 1 removed; the
    # program ran on with no trap left, and a trap put back by a step-over completed at
    # `D` is the rescue's to restore, counted in the note)
    steps_over_traps: bool = False

    @property
    def commands(self) -> tuple[str, ...]:
        return tuple(step.command for step in self.steps)

    @property
    def stepping(self) -> bool:
        """gdb steps the program at the ending: the traps in its code come and go (z0 at
        each step's stop, Z0 at its resume), so their number at a look is no bound on
        the number the guard finds later (`mid next`: 4 at the look, 3 at the guard's
        turn, once in CI)."""
        return any(command.split()[0] in STEPPING_COMMANDS for command in self.commands)


def just_hit(program: Program, breakpoint_: int | None) -> bool:
    """Every thread stopped, a worker's PC one past the breakpoint's trap."""
    return breakpoint_ is not None and program.just_hit({breakpoint_})


def resumed(program: Program, _breakpoint: int | None) -> bool:
    return traced(program) and not all_stopped(program)


def stopped(program: Program, _breakpoint: int | None) -> bool:
    return traced(program) and all_stopped(program)


def through_trap(program: Program, _breakpoint: int | None) -> bool:
    return traced(program) and bool(traps_in(program.pid))


def stopped_in_tick(*commands: str) -> tuple[Step, ...]:
    """Stopped in tick() (a worker hit `break tick`), the breakpoint gone, then
    `commands`: `next 1000` (over tick's lines and the loop's 0.1 s nanosleep) and
    `step 100000` last many seconds, `finish` out of worker_main (frame 1) for ever."""
    return (
        Step("break tick"),
        Step("continue", all_stopped),
        Step("delete 1"),
        *(Step(command) for command in commands),
    )


STOPPED_AT_HIT = State(
    "stopped at a hit breakpoint", (Step("break tick"), Step("continue")), just_hit
)
OTHER_STATES = [
    State("running", (Step("continue"),), resumed, moving=True),
    State(
        "through a hot breakpoint",
        (Step("break threads.c:33 if i < 0"), Step("continue")),
        through_trap,
        moving=True,
    ),
    State("mid next", stopped_in_tick("next 1000"), resumed, True),
    State("mid step", stopped_in_tick("step 100000"), resumed, True),
    State("mid finish", stopped_in_tick("up", "finish"), resumed, True),
    State(
        "interrupted",
        (Step("continue", lambda program: resumed(program, None)), Step(INTERRUPT)),
        stopped,
    ),
    State(
        "stopped at a watchpoint",
        (Step("watch -l workers[1].iterations"), Step("continue")),
        stopped,
    ),
    # issue 14's kinds: a logpoint's trap is hit and gdb resumes at once; a syscall
    # catchpoint (on a call the program never makes) stops each nanosleep at its entry
    # and exit, and gdb resumes it
    State(
        "with a logpoint set",
        (Step('dprintf tick,"x\\n"'), Step("continue")),
        through_trap,
        moving=True,
    ),
    State(
        "with a syscall catchpoint set",
        (Step("catch syscall write"), Step("continue")),
        resumed,
        moving=True,
    ),
    State(
        "through a watchpoint",  # its condition never true: gdb resumes at each write
        (Step("watch -l workers[1].iterations if workers[1].iterations == 0"), Step("continue")),
        resumed,
        moving=True,
    ),
    # compute_step's `value` in worker-1, written ~1,000 times a tick: a thread
    # let go with the watchpoint still armed traps at once (`if 0`: when the frame is
    # gone, other frames write that stack slot, and a value test could come true)
    State(
        "through a hot watchpoint",
        (
            Step("break compute_step if w->id == 1"),
            Step("continue", all_stopped),
            Step("delete 1"),
            Step("watch -l value if 0"),
            Step("continue"),
        ),
        resumed,
        moving=True,
    ),
]


def worker_0_stopped_at_hit(program: Program, breakpoint_: int | None) -> bool:
    """Non-stop: worker-0 (the program's second thread) stopped with its PC one past the
    breakpoint's trap while the others run (workers 1 and 2 reach the trap too, and
    gdbserver resumes them at once: their condition is false)."""
    if breakpoint_ is None or all_stopped(program) or not traced(program):
        return False
    worker_0 = program.threads()[1]
    return worker_0 in program.stopped_past({breakpoint_})


# gdb's non-stop mode: only worker-0 stops at the breakpoint, the others count on
NON_STOP_AT_HIT = State(
    "non-stop, one thread stopped at a hit breakpoint",
    (Step("break tick if w->id == 0"), Step("continue -a")),
    worker_0_stopped_at_hit,
    moving=True,
    non_stop=True,
    steps_over_traps=True,
)


def non_stop_flag(state: State) -> list[str]:
    return ["--non-stop"] if state.non_stop else []


# ---- the front ends, each in its own terminal -----------------------------------------


@dataclass(frozen=True)
class Witness:
    """Where a front end's account of how it detached goes besides its terminal (gone
    after a SIGHUP): `gdb_trace`, CNTR_TUI_GDB_TRACE (gdb's MI bytes: the TUI and
    --batch); `stderr`, its stderr once its terminal is to be closed (--batch and the
    console say there who detached; the TUI draws on stderr, so it keeps its terminal)."""

    gdb_trace: Path
    stderr: Path

    def said(self, terminal: Terminal, ending: str) -> str:
        """What the front end said at its end: on its screen, or after its terminal
        closed in the stderr file."""
        if ending == HANGUP:
            return self.stderr.read_text(errors="replace") if self.stderr.exists() else ""
        return terminal.screen()


class Frontend:
    """One front end in a tmux terminal, attached to the container named `word`."""

    name = ""
    # on screen after a SIGTERM (the terminal stays): how it ended
    after_sigterm: tuple[str, ...] = ()
    # its stderr can go to a file (its screen is not drawn there)
    stderr_to_file = True

    def __init__(self, terminal: Terminal, listed_as: str):
        self.terminal = terminal
        self.listed_as = listed_as  # the TUI's filter text that shows just this one

    @classmethod
    def command(cls, word: str, state: State) -> str:
        raise NotImplementedError

    def bring(self, state: State, program: Program) -> None:
        """Reach `state` (the batch front end got its commands on its command line)."""

    def type_steps(self, state: State, program: Program) -> None:
        for step in state.steps:
            self.type_command(step.command)
            if step.command.startswith((*SETS_A_TRAP, "watch", "catch")):
                self.terminal.wait_for(
                    lambda shown: any(
                        reply in shown
                        for reply in (
                            "point 1 at",
                            "atchpoint 1:",
                            "atchpoint 2:",
                            "Dprintf 1 at",
                            "point 1 (",
                        )
                    ),
                    "gdb's reply",
                    20,
                )
                self.settle()
            if step.then is not None:
                assert wait_until(lambda then=step.then: then(program), 30), (
                    step.command,
                    program.thread_states(),
                    self.terminal.screen()[-1200:],
                )
                self.shown(step)

    def type_command(self, command: str) -> None:
        self.terminal.text(command)
        self.terminal.keys("Enter")

    def settle(self) -> None:
        """After a command's reply: ready for the next one."""

    def shown(self, step: Step) -> None:
        """After the program reached what `step` waits for: the front end shows it."""

    def pid(self) -> int:
        return self.terminal.app_pid()

    @classmethod
    def assert_detached_cleanly(cls, said: str, trace: bytes, planted: int, ending: str) -> None:
        """After a SIGTERM or SIGHUP, from what the front end `said` and gdb's MI
        `trace`: a detach (traps out, then `D`), not a rescue."""
        raise NotImplementedError


class Batch(Frontend):
    name = "--batch"
    after_sigterm = ("cntr-tui: SIGTERM: detached", "cntr-tui exited 143")

    @classmethod
    def command(cls, word: str, state: State) -> str:
        # `shell sleep` keeps the front end (and gdb) busy while the program is held
        arguments = [str(CNTR_TUI), "gdb", *non_stop_flag(state), word, "--batch"]
        for command in (*state.commands, "shell sleep 600"):
            if command != INTERRUPT:
                arguments += ["-ex", command]
        return shlex.join(arguments)

    def bring(self, state: State, program: Program) -> None:
        """An interrupt is a SIGINT to it once the step before has left the program
        running: it waits there for the stop (for ever, with no breakpoint)."""
        for before, step in zip(state.steps, state.steps[1:], strict=False):
            if step.command == INTERRUPT:
                assert before.then is not None and before.command == "continue"
                assert wait_until(
                    lambda then=before.then: (
                        "Continuing." in self.terminal.screen() and then(program)
                    ),
                    60,
                ), (
                    program.thread_states(),
                    self.terminal.screen()[-1200:],
                )
                os.kill(self.pid(), signal.SIGINT)

    @classmethod
    def assert_detached_cleanly(cls, said: str, trace: bytes, planted: int, ending: str) -> None:
        # "(gdb)" is also what it says when the guard only rescued the program
        # (detached_by_guard false): then gdb's MI trace must show its detach
        signal_name = "SIGHUP" if ending == HANGUP else ending
        found = re.search(rf"cntr-tui: {signal_name}: detached \((.*?)\)", said)
        assert found, said[-1500:]
        if found.group(1) == "gdb":
            assert gdb_detached(trace), trace[-3000:]
        else:
            assert found.group(1) == "the guard detached gdbserver", said[-1500:]


class Console(Frontend):
    name = "console"
    after_sigterm = ("cntr-tui: SIGTERM: gdb ended", "the guard detached gdbserver", "exited 143")

    @classmethod
    def command(cls, word: str, state: State) -> str:
        return shlex.join([str(CNTR_TUI), "gdb", *non_stop_flag(state), word])

    def bring(self, state: State, program: Program) -> None:
        if state.non_stop:
            # the attach stops the threads one by one, each but the first said after the
            # prompt: once all are, an empty line brings the prompt back
            self.terminal.wait_for(
                lambda shown: (
                    "(gdb)" in shown and shown.count('" stopped.') >= len(program.threads()) - 1
                ),
                "every thread's stop",
                SCREEN_DEADLINE,
            )
            self.terminal.keys("Enter")
        self.terminal.wait_for(
            lambda shown: shown.rstrip().endswith("(gdb)"), "gdb's prompt", SCREEN_DEADLINE
        )
        self.type_steps(state, program)

    def settle(self) -> None:
        self.terminal.wait_for(lambda shown: shown.rstrip().endswith("(gdb)"), "the prompt", 10)

    def type_command(self, command: str) -> None:
        if command == INTERRUPT:
            self.terminal.keys("C-c")  # the program runs in the foreground
        else:
            super().type_command(command)

    @classmethod
    def assert_detached_cleanly(cls, said: str, trace: bytes, planted: int, ending: str) -> None:
        # gdb's own console cannot be asked to detach: the guard detaches gdbserver
        # (`z0` for each trap in the code, then `D` answered OK), the clean path here.
        # `planted`: the traps in the code at the look before the ending while it runs
        # and does not step (State.stepping: 0 then). That no trap is left after is
        # run_case's check in every state (Program.released reads the code).
        # The note adds the rescue's restored traps to its count: only the guard's
        # outcome (not printed) tells them apart.
        removed = guard_detach_removed(said)
        if ending == HANGUP and "gdb ended" not in said:  # guard_note's every note says it
            # the program's checks (run_case) held: only this witness, the note, is missing
            pytest.xfail(
                "no note after SIGHUP, 2 of ~75 console SIGHUP runs: stderr empty (before "
                "bf5ae8c: the default SIGHUP action restored before the note); after it, "
                "once: only a traceback, pty.pump's write to the closed terminal raising "
                "EIO out of relay, and no note"
            )
        assert removed is not None and removed >= planted, said[-1500:]


class Tui(Frontend):
    name = "TUI"
    after_sigterm = ("cntr-tui exited 0",)  # the quit's detach
    stderr_to_file = False  # Textual draws on stderr

    @classmethod
    def command(cls, word: str, state: State) -> str:
        return shlex.quote(str(CNTR_TUI))

    def bring(self, state: State, program: Program) -> None:
        open_debugger(self.terminal, self.listed_as)
        if state.non_stop:  # M: attach again in non-stop mode; the status line says it
            self.terminal.keys("M")
            self.terminal.wait_for(
                lambda shown: "· non-stop" in shown, "the non-stop attach", SCREEN_DEADLINE
            )
        self.terminal.keys(":")
        self.terminal.wait_for(lambda shown: "f5 Continue" in shown, "the console focused", 10)
        self.type_steps(state, program)

    def shown(self, step: Step) -> None:
        # A user types the next command once the screen shows the stop. Typed earlier,
        # a breakpoint command runs in a hold (interrupt, command, resume) that raced the
        # stop: its SIGINT stops the program again after the resume (found in CI: `up`
        # and `finish` then met a running program, and the program stayed stopped).
        if step.then is all_stopped:
            self.terminal.wait_for(
                lambda shown: " stopped: " in shown, "the stop on the screen", SCREEN_DEADLINE
            )

    @classmethod
    def assert_detached_cleanly(cls, said: str, trace: bytes, planted: int, ending: str) -> None:
        # it says nothing on the way out: gdb's MI trace is the witness of its detach
        assert gdb_detached(trace), trace[-3000:]


FRONTENDS = [Batch, Console, Tui]


# ---- one case ------------------------------------------------------------------------


def end_frontend(ending: str, frontend: Frontend) -> None:
    if ending == HANGUP:
        frontend.terminal.close()  # the terminal goes: the kernel sends SIGHUP
    else:
        os.kill(frontend.pid(), getattr(signal, ending))


def run_case(
    start_container,
    terminals: list[Terminal],
    witness: Witness,
    runtime: str,
    kind: type[Frontend],
    ending: str,
    state: State,
) -> None:
    container = start_container(runtime)
    word = word_for(container)
    # a plain-namespace container is listed under its command's name: by runtime and PID
    listed_as = container.name if runtime == "docker" else f"process {container.pid}"
    program = Program.of(container.pid)
    command = (
        f"CNTR_TUI_GDB_TRACE={shlex.quote(str(witness.gdb_trace))} {kind.command(word, state)}"
    )
    if ending == HANGUP and kind.stderr_to_file:
        command += f" 2>>{shlex.quote(str(witness.stderr))}"
    terminal = Terminal(command)
    terminals.append(terminal)
    frontend = kind(terminal, listed_as)
    frontend.bring(state, program)
    breakpoints: set[int] = set()
    if state.commands[0].startswith(SETS_A_TRAP):
        found = terminal.wait_for(BREAKPOINT_AT.search, "the breakpoint's address", 30)
        breakpoints.add(int(BREAKPOINT_AT.search(found).group(1), 16))  # type: ignore[union-attr]
    address = min(breakpoints, default=None)
    assert wait_until(lambda: state.reached(program, address), 30), (
        terminal.screen()[-1500:],
        program.thread_states(),
        program.program_counters(),
        breakpoints,
    )
    if state.moving:  # it runs under gdb
        before = program.counter_values()
        assert wait_until(lambda: program.counter_values() != before and traced(program))
    frontend_pid = frontend.pid()
    started = ours(frontend_pid)
    itself = {frontend_pid: " ".join(psutil.Process(frontend_pid).cmdline())}
    guard_pid = guard_of(started, container.pid)
    # it ignores SIGHUP once its Python runs (its own session keeps the terminal's away)
    assert wait_until(lambda: guard_outlives_terminal(guard_pid, frontend_pid)["ignores SIGHUP"])
    guard = guard_outlives_terminal(guard_pid, frontend_pid)
    # the traps in the code now: while it runs under gdb (gdb takes them out at each
    # stop, which races with a look just after the stop: seen in 1 whole-file run, in
    # [process-stopped at a watchpoint-console-SIGHUP], a trap gone by the guard's turn)
    planted = len(traps_in(program.pid)) if state.moving and not state.stepping else 0
    if state.steps_over_traps and planted:
        planted = max(1, planted - 1)  # at most one step-over at a time: one trap out
    since = time.monotonic()
    end_frontend(ending, frontend)
    program.assert_runs_on(breakpoints, since)
    assert all(guard.values()), guard
    assert wait_until(lambda: not left_over(started), 30), left_over(started)
    # the front end itself ends too: a TUI whose terminal closed once lived on, orphaned
    assert wait_until(lambda: not left_over(itself), 30), left_over(itself)
    if ending == "SIGTERM":
        terminal.wait_for(lambda shown: "cntr-tui exited" in shown, "the front end's end", 15)
    try:
        if ending == "SIGTERM":
            shown = terminal.screen()
            assert all(text in shown for text in kind.after_sigterm), shown
        if ending in ("SIGTERM", HANGUP):
            trace = witness.gdb_trace.read_bytes() if witness.gdb_trace.exists() else b""
            kind.assert_detached_cleanly(witness.said(terminal, ending), trace, planted, ending)
    except AssertionError:
        if state.detach_gap is None or kind is not Console:  # the TUI's and batch's: gdb's
            raise
        if kind is Console and ending == "SIGTERM":  # its note says it was a rescue
            assert "gdbserver did not detach, the guard's rescue" in terminal.screen()
        pytest.xfail(state.detach_gap)


@pytest.mark.parametrize("ending", ENDINGS)
@pytest.mark.parametrize("kind", FRONTENDS, ids=lambda kind: kind.name)
@pytest.mark.parametrize("runtime", ["docker", "process"])
def test_stopped_at_a_hit_breakpoint_the_program_survives_the_front_end(
    start_container, terminals, witness, runtime: str, kind: type[Frontend], ending: str
) -> None:
    run_case(start_container, terminals, witness, runtime, kind, ending, STOPPED_AT_HIT)


# Killed while the program runs through a conditional hardware watchpoint, the program
# died of SIGTRAP (the slow one: about half the runs when first measured, 2 of 36 later;
# the hot one, 12 of 12 cases the guard's detach handles): gdbserver's detach leaves the
# watchpoint armed in debug register 7 and let the threads go running, before the
# guard's rescue cleared it. Now the guard's `D` leaves the program stopped for the
# rescue (guard_process.detach_one).


def endings_of(state: State) -> tuple[str, ...]:
    # SIGTERM's detach: while the program runs; a stopped one is the hit breakpoint's
    return ("SIGKILL", "SIGTERM", HANGUP) if state.moving else ("SIGKILL", HANGUP)


REACHABLE = [(state, kind) for state in OTHER_STATES for kind in FRONTENDS]


def case(runtime: str, state: State, kind: type[Frontend], ending: str) -> object:
    return pytest.param(
        runtime,
        state,
        kind,
        ending,
        # docker's ids as before this file had plain namespaces here
        id=f"{'' if runtime == 'docker' else 'process-'}{state.name}-{kind.name}-{ending}",
    )


# Plain namespaces: each state once per front end, the endings taken in turn (the
# whole matrix again, 48 cases, would add more than 5 minutes: this file's 48 cases of
# before took 229 s);
# docker has every ending.
CASES = [
    case("docker", state, kind, ending) for state, kind in REACHABLE for ending in endings_of(state)
] + [
    case("process", state, kind, endings_of(state)[index % len(endings_of(state))])
    for index, (state, kind) in enumerate(REACHABLE)
]


@pytest.mark.parametrize(("runtime", "state", "kind", "ending"), CASES)
def test_in_any_state_the_program_survives_the_front_end(
    start_container,
    terminals,
    witness,
    runtime: str,
    state: State,
    kind: type[Frontend],
    ending: str,
) -> None:
    run_case(start_container, terminals, witness, runtime, kind, ending, state)


@pytest.mark.parametrize("ending", ENDINGS)
@pytest.mark.parametrize("kind", FRONTENDS, ids=lambda kind: kind.name)
@pytest.mark.parametrize("runtime", ["docker", "process"])
def test_non_stop_one_thread_at_a_breakpoint_the_program_survives_the_front_end(
    start_container, terminals, witness, runtime: str, kind: type[Frontend], ending: str
) -> None:
    run_case(start_container, terminals, witness, runtime, kind, ending, NON_STOP_AT_HIT)


# found failing 3 of 3 runs: after its note, a traceback (pty.relay's tcsetattr on the
# closed terminal raised EIO), exit status 1
def test_the_console_ends_without_a_traceback_when_its_terminal_closes(
    start_container, terminals, witness
) -> None:
    run_case(start_container, terminals, witness, "docker", Console, HANGUP, OTHER_STATES[0])
    said = witness.stderr.read_text(errors="replace")
    assert "Traceback" not in said, said
