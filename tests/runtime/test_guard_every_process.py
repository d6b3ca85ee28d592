"""Every process gdb holds outlives the front end's death, not only the one attached.

gdb holds a second process after a fork it follows into the child (the parent let go),
after a fork it keeps both sides of (--no-detach-on-fork), and after a console's
`add-inferior; inferior 2; attach PID`. An engine-level front end (open_debug, as the
TUI runs it, in a process of its own: tests/support/engine_host.py) on a real container
(docker, plain namespaces) gets a breakpoint hit in such a process and is then
SIGKILLed. Within 5 s every process gdb held must run on: untraced, no thread stopped,
no trap left in its code, no SIGTRAP pending, no thread's PC one past the breakpoint's
trap, its counter moving (the fork server's `forks`; a worker's `work_done` until it
ends, and none ends by a signal: the server counts those in `signalled`; the threads
demo's workers' iterations); and every process the front end started is gone.
"""

from __future__ import annotations

import contextlib
import json
import os
import shlex
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from cntr_tui.demo.containers import StartedContainer
from cntr_tui.gdb.trap_rescue import traps_in
from tests.runtime.test_app_processes import second_copy
from tests.support.fork_root import PROGRAM, build_fork_root
from tests.support.frontend import (
    DETACH_SENT,
    Program,
    gdb_detached,
    left_over,
    load_base,
    ours,
    symbol_value,
    trace_sessions,
)
from tests.support.proc import (
    namespace_pid,
    process_state,
    read_u64,
    running,
    tracer_of,
    wait_until,
)
from tests.support.runtimes import word_for
from tests.support.terminal import CNTR_TUI, Terminal, open_debugger

RUNTIMES = ["docker", "process"]
REPOSITORY = Path(__file__).parents[2]
RELEASE_DEADLINE = 5.0


@dataclass
class Held:
    """What the engine's host process printed at the stop."""

    host: subprocess.Popen[bytes]
    processes: dict[int, int]  # host PID -> PID as gdb sees it
    stopped: int  # host PID of the process the stop is in
    address: int  # the stop's PC: the breakpoint's address in `stopped`
    tracer: str

    def trap_addresses(self, pid: int) -> set[int]:
        """The breakpoint's address in `pid` (the same program mapped elsewhere)."""
        offset = self.address - load_base(self.stopped)
        return {load_base(pid) + offset}


@contextlib.contextmanager
def engine_host(started: StartedContainer, commands: list[str], **forks: object) -> Iterator[Held]:
    """The engine's host process, attached to `started`, stopped after `commands`."""
    spec = {"word": word_for(started), "runtime": started.runtime, "commands": commands, **forks}
    process = subprocess.Popen(
        [sys.executable, "-m", "tests.support.engine_host", json.dumps(spec)],
        cwd=REPOSITORY,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        stdin=subprocess.DEVNULL,
    )
    try:
        assert process.stdout is not None and process.stderr is not None
        line = process.stdout.readline()
        if not line:
            process.wait(30)
            raise AssertionError(process.stderr.read().decode(errors="replace")[-3000:])
        said = json.loads(line)
        processes = {int(host): pid for host, pid in said["processes"].items()}
        yield Held(process, processes, said["stopped"], said["address"], said["tracer"])
    finally:
        with contextlib.suppress(ProcessLookupError):
            process.kill()
        process.wait(30)


def kill_front_end(held: Held) -> tuple[dict[int, str], float]:
    """SIGKILL the host process; what it had started (gdb, gdbserver, the guard,
    helpers) and when."""
    started = ours(held.host.pid)
    assert any("cntr_tui.gdb.guard" in line for line in started.values()), started
    since = time.monotonic()
    os.kill(held.host.pid, signal.SIGKILL)
    held.host.wait(10)
    return started, since


def released(pid: int) -> str | None:
    """None once `pid` runs free (or has ended); otherwise what still holds it."""
    if not running(pid):
        return None
    if tracer := tracer_of(pid):
        return f"{pid} traced by {tracer}"
    states = {process_state(f"{pid}/task/{tid}") for tid in os.listdir(f"/proc/{pid}/task")}
    if states & {"t", "T"}:
        return f"{pid} stopped: {states}"
    if traps_in(pid):
        return f"{pid}: traps left at {sorted(hex(a) for a in traps_in(pid))}"
    return None


def assert_all_released(held: Held, since: float) -> None:
    why: list[str | None] = [None]

    def free() -> bool:
        why[0] = next((w for pid in held.processes if (w := released(pid))), None)
        return why[0] is None

    assert wait_until(free, max(0.0, since + RELEASE_DEADLINE - time.monotonic())), why[0]


def assert_all_run_on(programs: list[Program], since: float, started: dict[int, str]) -> None:
    """Each program released within RELEASE_DEADLINE of `since`, no SIGTRAP pending, and
    nothing `started` by the front end left."""
    for program in programs:
        program.assert_runs_on(set(), since, RELEASE_DEADLINE)
        assert not program.pending_trap()
    assert wait_until(lambda: not left_over(started), 30), left_over(started)


def forks_counter(pid: int, name: str) -> int:
    return read_u64(pid, load_base(pid) + symbol_value(f"/proc/{pid}/exe", name))


def assert_fork_processes_survive(held: Held, server: int, since: float, signalled: int) -> None:
    """The server forks on; each worker gdb held works on until it ends by itself."""
    assert_all_released(held, since)
    counted = forks_counter(server, "forks")
    assert wait_until(lambda: forks_counter(server, "forks") > counted), "the server forks on"
    for pid in set(held.processes) - {server}:
        with contextlib.suppress(OSError):  # it may have ended already: see below
            done = forks_counter(pid, "work_done")
            assert wait_until(
                lambda p=pid, d=done: not running(p) or forks_counter(p, "work_done") > d, 5, 0.01
            ), f"worker {pid} does not work"
        assert wait_until(lambda p=pid: not os.path.exists(f"/proc/{p}"), 15), "never reaped"
    assert forks_counter(server, "signalled") == signalled, (
        f"a worker died of signal {forks_counter(server, 'last_signal')}"
    )


@pytest.fixture(params=RUNTIMES)
def fork_server(request: pytest.FixtureRequest, start_container) -> StartedContainer:
    return start_container(request.param, program=PROGRAM, root=build_fork_root())


@pytest.mark.parametrize("detach", [True, False], ids=["follow-fork-child", "no-detach-on-fork"])
def test_a_breakpoint_hit_in_a_forked_child_survives_the_front_end(
    fork_server: StartedContainer, detach: bool
) -> None:
    server = fork_server.pid
    signalled = forks_counter(server, "signalled")
    commands = ["break child_work", "continue"]
    with engine_host(fork_server, commands, follow="child", detach=detach) as held:
        assert held.tracer == "gdbserver"
        assert held.stopped != server and held.stopped in held.processes, held
        assert (server in held.processes) is not detach, held  # the parent: let go, or kept
        assert all(tracer_of(pid) != 0 for pid in held.processes)
        started, since = kill_front_end(held)
        assert_fork_processes_survive(held, server, since, signalled)
    assert wait_until(lambda: not left_over(started), 30), left_over(started)


@contextlib.contextmanager
def two_processes_held(
    start_container, runtime: str, commands: list[str], **spec: object
) -> Iterator[tuple[Held, int]]:
    """The threads demo in a container and a second copy in it, attached from gdb's
    console as inferior 2, then `commands`: the host process and the first's PID."""
    started_container = start_container(runtime)
    first = started_container.pid
    with second_copy(started_container) as second:
        attach = ["add-inferior", "inferior 2", f"attach {namespace_pid(second)}"]
        with engine_host(started_container, attach + commands, **spec) as held:
            assert held.tracer == "gdbserver"
            assert set(held.processes) == {first, second}, held
            assert all(tracer_of(pid) != 0 for pid in held.processes)
            yield held, first


@pytest.mark.parametrize("runtime", RUNTIMES)
def test_a_breakpoint_hit_in_a_process_attached_from_the_console_survives_the_front_end(
    runtime: str, start_container
) -> None:
    with two_processes_held(start_container, runtime, ["break tick", "continue"]) as (held, _):
        programs = [Program.of(pid) for pid in held.processes]
        started, since = kill_front_end(held)
        for program in programs:
            program.assert_runs_on(held.trap_addresses(program.pid), since, RELEASE_DEADLINE)
            assert not program.pending_trap()
    assert wait_until(lambda: not left_over(started), 30), left_over(started)


HOT_LINE = "threads.c:33"  # value += ... in compute_step's loop, ~1,000 hits a tick
NEVER = "i < 0"


@pytest.mark.parametrize("runtime", RUNTIMES)
def test_two_processes_running_through_a_hot_breakpoint_survive_the_front_end(
    runtime: str, start_container
) -> None:
    """Failed before the guard watched every process (docker, 3 of 3 runs): a trap left
    in the second process's code after gdbserver's own exit let it go."""
    commands = [f"break {HOT_LINE} if {NEVER}", "continue"]
    with two_processes_held(start_container, runtime, commands, until="running") as (held, first):
        programs = [Program.of(pid) for pid in held.processes]
        # running under gdb, through its traps (in a plain-namespace container gdb
        # may find no symbols for the second, which then has none)
        assert wait_until(lambda: bool(traps_in(first))), traps_in(first)
        for program in programs:
            before = program.counter_values()
            assert wait_until(lambda p=program, b=before: p.counter_values() != b)
        started, since = kill_front_end(held)
        for program in programs:
            program.assert_runs_on(set(), since, RELEASE_DEADLINE)
            assert not program.pending_trap()
    assert wait_until(lambda: not left_over(started), 30), left_over(started)


@pytest.mark.parametrize("hot", [False, True], ids=["stopped-at-a-hit", "through-a-hot-one"])
@pytest.mark.parametrize("runtime", RUNTIMES)
def test_the_tui_killed_with_two_processes_at_a_breakpoint(
    runtime: str, hot: bool, start_container
) -> None:
    """The TUI in a real terminal (tmux): a second copy attached from its console pane,
    then `break tick` and continue: both processes stop (schedule-multiple), a worker of
    one just past the trap; or (hot) a conditional breakpoint never true in compute_step's
    loop and continue: both run through it. SIGKILL the TUI: both run on. The hot one
    failed before the guard watched every process (docker: 3 of 3 runs)."""
    if shutil.which("tmux") is None:
        pytest.skip("tmux is not installed")
    started_container = start_container(runtime)
    first = started_container.pid
    docker = runtime == "docker"
    listed_as = started_container.name if docker else f"process {started_container.pid}"
    with second_copy(started_container) as second:
        programs = [Program.of(first), Program.of(second)]
        terminal = Terminal(shlex.quote(str(CNTR_TUI)))
        try:
            open_debugger(terminal, listed_as)
            terminal.keys(":")
            terminal.wait_for(lambda shown: "f5 Continue" in shown, "the console focused", 10)
            for command in ("add-inferior", "inferior 2", f"attach {namespace_pid(second)}"):
                terminal.text(command)
                terminal.keys("Enter")
            assert wait_until(lambda: programs[1].all_stopped() and tracer_of(second) != 0, 30)
            terminal.text("break tick")
            terminal.keys("Enter")
            terminal.wait_for(lambda shown: "Breakpoint 1 at" in shown, "the breakpoint", 20)
            terminal.text("continue")
            terminal.keys("Enter")
            assert wait_until(
                lambda: (
                    "hit Breakpoint 1" in terminal.screen()
                    and all(program.all_stopped() for program in programs)
                ),
                30,
            ), terminal.screen()[-1500:]
            tui = terminal.app_pid()
            ours_before = ours(tui)
            assert any("cntr_tui.gdb.guard" in line for line in ours_before.values())
            since = time.monotonic()
            os.kill(tui, signal.SIGKILL)
            assert_all_run_on(programs, since, ours_before)
        finally:
            terminal.close()


# ---- the console, --batch and the TUI, each ending, two processes ---------------------

HANGUP = "SIGHUP (terminal closed)"
ATTACH_SECOND = ("add-inferior", "inferior 2")


def two_process_commands(second: int) -> list[str]:
    """From gdb's console: the second copy as inferior 2, then a breakpoint never true in
    compute_step's loop and continue (schedule-multiple: both run through it)."""
    return [*ATTACH_SECOND, f"attach {namespace_pid(second)}", f"break {HOT_LINE} if {NEVER}"]


def prompt_shown(shown: str) -> bool:
    return shown.rstrip().endswith("(gdb)")


def start_console(terminal: Terminal, commands: list[str]) -> None:
    terminal.wait_for(prompt_shown, "gdb's prompt", 60)
    for command in commands:
        terminal.text(command)
        terminal.keys("Enter")
        terminal.wait_for(
            lambda shown, c=command: prompt_shown(shown) and c in shown, f"{command}'s end", 30
        )
    terminal.text("continue")
    terminal.keys("Enter")


def start_tui(terminal: Terminal, listed_as: str, commands: list[str], second: int) -> None:
    open_debugger(terminal, listed_as)
    terminal.keys(":")
    terminal.wait_for(lambda shown: "f5 Continue" in shown, "the console focused", 10)
    for command in commands:
        terminal.text(command)
        terminal.keys("Enter")
        if command.startswith("attach"):
            assert wait_until(lambda: tracer_of(second) != 0, 30)
    terminal.wait_for(lambda shown: "Breakpoint 1 at" in shown, "the breakpoint", 20)
    terminal.text("continue")
    terminal.keys("Enter")


def guard_outcome(trace: Path, target: int) -> dict[str, object] | None:
    """The outcome of the guard of `target` in the CNTR_TUI_GUARD_TRACE file (None: that
    guard wrote none)."""
    lines = trace.read_text().splitlines() if trace.exists() else []
    outcomes = [json.loads(line) for line in lines]
    return next((o for o in reversed(outcomes) if o.get("guarded") == target), None)


def detaches_done(trace: bytes) -> int:
    """How many `-target-detach` gdb's last session answered `^done` in its MI trace (0
    if any failed)."""
    sessions = trace_sessions(trace)
    return len(DETACH_SENT.findall(sessions[-1][0])) if gdb_detached(trace) else 0


FRONT_END_CASES = [
    pytest.param(runtime, kind, ending, id=f"{runtime}-{kind}-{ending.split()[0]}")
    for runtime, kind, ending in [
        # the console: every ending is the guard's detach (its SIGKILL: the end of the
        # guard's stdin; SIGTERM: the console ends gdb; SIGHUP: the terminal's)
        ("docker", "console", "SIGKILL"),
        ("docker", "console", "SIGTERM"),
        ("docker", "console", HANGUP),
        ("process", "console", "SIGTERM"),
        # --batch: SIGKILL is the guard's; SIGTERM and SIGHUP gdb's own detach of each
        ("docker", "--batch", "SIGKILL"),
        ("docker", "--batch", "SIGTERM"),
        ("docker", "--batch", HANGUP),
        ("process", "--batch", HANGUP),
        # the TUI (its SIGKILL: test_the_tui_killed_with_two_processes_at_a_breakpoint;
        # on plain namespaces gdb finds no symbols for the second copy, and the TUI shows
        # no "Breakpoint 1 at" to wait for)
        ("docker", "TUI", "SIGTERM"),
        ("docker", "TUI", HANGUP),
    ]
]


@pytest.mark.parametrize(("runtime", "kind", "ending"), FRONT_END_CASES)
def test_each_front_end_ends_with_two_processes_running_through_a_hot_breakpoint(
    runtime: str, kind: str, ending: str, start_container, tmp_path: Path
) -> None:
    """The console, --batch and the TUI in a real terminal (tmux), a second copy attached
    as inferior 2, both running through a conditional breakpoint never true; then the
    front end is SIGKILLed, sent SIGTERM or loses its terminal. Within 5 s both run on
    (untraced, not stopped, no trap, no SIGTRAP pending, counters moving), nothing of
    ours is left, and the detach was a clean one for both processes: the guard's
    (`D` for each, no trap left for its rescue to put back: its outcome in
    CNTR_TUI_GUARD_TRACE) or gdb's (`-target-detach` for each inferior answered ^done in
    its MI trace, the guard's check then found no trap)."""
    if shutil.which("tmux") is None:
        pytest.skip("tmux is not installed")
    started_container = start_container(runtime)
    first = started_container.pid
    word = word_for(started_container)
    gdb_trace, guard_trace = tmp_path / "gdb-trace", tmp_path / "guard-trace"
    environment = (
        f"CNTR_TUI_GDB_TRACE={shlex.quote(str(gdb_trace))} "
        f"CNTR_TUI_GUARD_TRACE={shlex.quote(str(guard_trace))} "
    )
    with second_copy(started_container) as second:
        programs = [Program.of(first), Program.of(second)]
        commands = two_process_commands(second)
        if kind == "--batch":
            arguments = [str(CNTR_TUI), "gdb", word, "--batch"]
            for command in (*commands, "continue", "shell sleep 600"):
                arguments += ["-ex", command]
            line = shlex.join(arguments)
        elif kind == "console":
            line = shlex.join([str(CNTR_TUI), "gdb", word])
        else:
            line = shlex.quote(str(CNTR_TUI))
        if ending == HANGUP and kind != "TUI":  # the TUI draws on stderr
            line += f" 2>>{shlex.quote(str(tmp_path / 'stderr'))}"
        terminal = Terminal(environment + line)
        try:
            if kind == "console":
                start_console(terminal, commands)
            elif kind == "TUI":
                docker = runtime == "docker"
                listed_as = started_container.name if docker else f"process {first}"
                start_tui(terminal, listed_as, commands, second)
            # both run under gdb, through their traps (in a plain-namespace container gdb
            # may find no symbols for the second, which then has none)
            assert wait_until(
                lambda: all(tracer_of(p.pid) != 0 for p in programs) and bool(traps_in(first)),
                60,
            ), (terminal.screen()[-1500:], [traps_in(p.pid) for p in programs])
            for program in programs:
                before = program.counter_values()
                assert wait_until(lambda p=program, b=before: p.counter_values() != b)
            frontend = terminal.app_pid()
            started = ours(frontend)
            assert any("cntr_tui.gdb.guard" in cmd for cmd in started.values()), started
            since = time.monotonic()
            if ending == HANGUP:
                terminal.close()
            else:
                os.kill(frontend, getattr(signal, ending))
            assert_all_run_on(programs, since, started)
        finally:
            terminal.close()
    # how it detached: the guard's `D` for each process, or gdb's detach of each
    outcome = guard_outcome(guard_trace, first) or {}
    if kind == "console" or ending == "SIGKILL" or outcome.get("detached_by_guard"):
        assert kind == "--batch" or ending == "SIGKILL" or kind == "console", outcome
        assert outcome.get("detached_by_guard") and outcome.get("others_detached") == 1, outcome
        assert outcome.get("processes") == 2 and not outcome.get("error"), outcome
        assert outcome.get("restored") == 0, outcome  # no trap left for its rescue
    else:  # the TUI's, --batch's within its 1.5 s
        trace = gdb_trace.read_bytes() if gdb_trace.exists() else b""
        assert detaches_done(trace) >= 2, trace[-3000:]
