"""Following a fork into the child (issue 14), on docker and plain namespaces, through
gdbserver in the container (extended-remote) as every session runs: a server that forks
a worker running child_work every 100 ms (programs/fork_workers.c), `break child_work`
with follow-fork-mode child. The stop is in a child (its PID is not the parent's, gdb's
thread is its task), which gdbserver traces; the parent runs on untraced (its fork
counter moves); after the session neither is traced and neither has a trap in its code.
The CLI's --follow-fork child and --no-detach-on-fork do the same through the real
binary; with detach-on-fork off gdb holds both sides and lets both go at the end."""

from __future__ import annotations

import os
import re
import subprocess

import pytest

from cntr_tui.debug.service import open_debug
from cntr_tui.debug.target import host_pid_of, target_for
from cntr_tui.demo.containers import StartedContainer
from cntr_tui.gdb.settings import ForkOptions
from cntr_tui.gdb.trap_rescue import traps_in
from tests.support.cli import CNTR_TUI
from tests.support.fork_root import PROGRAM, build_fork_root
from tests.support.frontend import load_base, symbol_value
from tests.support.proc import namespace_pid, read_u64, running, tracer_of, wait_until
from tests.support.runtimes import StartContainer, container_of, word_for

RUNTIMES = ["docker", "process"]
INFERIOR_LINE = re.compile(r"^[ *]\s*\d+\s+process (\d+)\s", re.MULTILINE)  # info inferiors


@pytest.fixture(params=RUNTIMES)
def server(request: pytest.FixtureRequest, start_container: StartContainer) -> StartedContainer:
    return start_container(request.param, program=PROGRAM, root=build_fork_root())


def forks_of(pid: int) -> int:
    """The parent's fork counter (`forks`), read through /proc/PID/mem."""
    return read_u64(pid, load_base(pid) + symbol_value(f"/proc/{pid}/exe", "forks"))


def children_of(pid: int) -> set[int]:
    found: set[int] = set()
    for task in os.listdir(f"/proc/{pid}/task"):
        with open(f"/proc/{pid}/task/{task}/children") as children:
            found.update(int(child) for child in children.read().split())
    return found


async def test_break_in_a_forked_child_with_follow_fork_child(server: StartedContainer) -> None:
    parent = server.pid
    target = target_for(container_of(server))
    target = type(target)(**{**target.__dict__, "forks": ForkOptions("child")})
    session = await open_debug(target)
    child = None
    try:
        gdb = session.gdb
        assert gdb.tracer == "gdbserver"
        assert (await gdb.break_insert("child_work")).ok
        assert (await gdb.continue_()).ok
        stop = (await gdb.wait_stopped()).unwrap()
        assert stop.reason == "breakpoint-hit" and stop.frame is not None
        assert stop.frame.function == "child_work"
        [thread] = (await gdb.threads()).unwrap()
        assert thread.lwp is not None and thread.lwp != namespace_pid(parent)
        child = host_pid_of(parent, thread.lwp)
        assert child in children_of(parent), "the stop is in a child of the server"
        assert tracer_of(child) != 0, "the child is traced (by gdbserver)"
        assert gdb.pid == thread.lwp and gdb.target_host_pid == child  # interrupt signals it
        assert tracer_of(parent) == 0, "the parent was let go at the fork"
        assert traps_in(parent) == {}, "the parent runs without the breakpoint's trap"
        counted = forks_of(parent)
        assert wait_until(lambda: forks_of(parent) > counted), "the parent runs on"
        frames = (await gdb.backtrace()).unwrap()
        assert [f.function for f in frames[:2]] == ["child_work", "main"]
    finally:
        await session.close()
    assert tracer_of(parent) == 0 and traps_in(parent) == {}
    assert child is not None
    if running(child):  # it works for about a second after the detach
        assert wait_until(lambda: not running(child) or tracer_of(child) == 0)
        assert traps_in(child) == {}
    counted = forks_of(parent)
    assert wait_until(lambda: forks_of(parent) > counted), "the parent runs on after"


def cli_batch(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*CNTR_TUI, "gdb", *args],
        capture_output=True,
        text=True,
        timeout=120,
        stdin=subprocess.DEVNULL,
    )


@pytest.mark.parametrize("detach", [True, False], ids=["detach-on-fork", "no-detach-on-fork"])
def test_the_cli_follows_the_child(server: StartedContainer, detach: bool) -> None:
    parent = server.pid
    flags = ["--follow-fork", "child"] + ([] if detach else ["--no-detach-on-fork"])
    commands = ["break child_work", "continue", "info inferiors"]
    ex = [argument for command in commands for argument in ("-ex", command)]
    done = cli_batch(*flags, word_for(server), "--batch", *ex)
    assert done.returncode == 0, done.stderr
    assert "hit Breakpoint 1" in done.stdout and ", child_work (" in done.stdout, done.stdout
    pids = {int(found.group(1)) for found in INFERIOR_LINE.finditer(done.stdout)}
    inner = namespace_pid(parent)
    if detach:
        assert len(pids) == 1 and inner not in pids, done.stdout  # the child alone
    else:
        assert len(pids) == 2 and inner in pids, done.stdout  # the parent held too
    assert wait_until(lambda: tracer_of(parent) == 0)
    assert traps_in(parent) == {}
    for child in children_of(parent):
        assert wait_until(lambda c=child: not running(c) or tracer_of(c) == 0)
    counted = forks_of(parent)
    assert wait_until(lambda: forks_of(parent) > counted), "the parent runs on after"


def test_fork_flags_refused_where_they_mean_nothing() -> None:
    done = cli_batch("--core", "/nonexistent", "--follow-fork", "child")
    assert done.returncode != 0 and done.stdout == ""
    assert done.stderr.startswith("cntr-tui: ") and done.stderr.count("\n") == 1, done.stderr
    done = cli_batch("--follow-fork", "sideways", "anything")
    assert done.returncode != 0 and done.stderr.startswith("cntr-tui: "), done.stderr
