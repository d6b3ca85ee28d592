"""The fast snapshot's own stop (cntr_tui/debug/stack_stop_process.py) on real
containers running /app/stalls: SIGKILLed while every thread is stopped, the program
runs on untraced with no signal left; its pause against the ticker's gap over a held
stop; its core's notes read back; a thread another tracer holds makes it touch
nothing; the fast path and the gdb path (--via-gdb) list the same stacks; where the
fast path cannot serve, one line says why."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from cntr_tui.debug.core_notes import read_core_notes
from cntr_tui.debug.stack_snapshot import anonymous_core
from cntr_tui.debug.stack_stop import StackStop, dynamic_linker_ranges
from cntr_tui.demo.rootfs import Program
from tests.runtime.test_snapshot import (
    WORKERS,
    assert_nothing_left,
    read_ticks,
    reset_ticker,
    snapshot,
    started,
)
from tests.support.proc import running, tracer_of, wait_until
from tests.support.program_roots import root_with_program
from tests.support.runtimes import StartContainer

SIGTRAP, SIGSTOP = 5, 19
HOLD = 0.2  # s: a stop held this long shows in the ticker's gap


def thread_status(pid: int) -> dict[int, dict[str, str]]:
    found = {}
    for name in os.listdir(f"/proc/{pid}/task"):
        try:
            with open(f"/proc/{pid}/task/{name}/status") as file:
                fields = dict(line.rstrip("\n").split(":\t", 1) for line in file if ":\t" in line)
        except OSError:
            continue
        found[int(name)] = fields
    return found


def pending(fields: dict[str, str]) -> int:
    return int(fields["SigPnd"], 16) | int(fields["ShdPnd"], 16)


def assert_running_untraced(pid: int) -> None:
    """No tracer on any thread, none stopped, no SIGSTOP or SIGTRAP pending, the ticker
    and the workers moving."""
    assert wait_until(lambda: all(f["TracerPid"] == "0" for f in thread_status(pid).values()))
    statuses = thread_status(pid)
    assert len(statuses) == WORKERS + 2
    for fields in statuses.values():
        assert fields["State"][0] in "SR", fields["State"]
        assert not pending(fields) & (1 << (SIGSTOP - 1) | 1 << (SIGTRAP - 1)), fields
    before = read_ticks(pid)
    assert wait_until(lambda: read_ticks(pid).ticks > before.ticks + 5), "the ticker stopped"
    assert wait_until(lambda: read_ticks(pid).spins > before.spins), "the workers stopped"


@pytest.fixture
def core_fd() -> Iterator[int]:
    fd = anonymous_core()
    yield fd
    os.close(fd)


async def held_stop(pid: int, fd: int) -> tuple[StackStop, int]:
    """The stop process, every thread of `pid` stopped and held (`stopped N` said)."""
    stop = await StackStop.start(pid, fd, hold=True)
    await stop.go(dynamic_linker_ranges(pid))
    line = await asyncio.wait_for(stop.line(), 10)
    assert line.startswith("stopped "), line
    return stop, int(line.split()[1])


@pytest.mark.parametrize("runtime", ["docker", "process"])
def test_killed_while_every_thread_is_stopped_the_program_runs_on_untraced(
    runtime: str, start_container: StartContainer, core_fd: int
) -> None:
    container, _ = started(start_container, runtime)
    pid = container.pid

    async def kill_while_stopped() -> None:
        stop, count = await held_stop(pid, core_fd)
        assert count == WORKERS + 2
        statuses = thread_status(pid)
        assert {f["TracerPid"] for f in statuses.values()} == {str(stop.pid)}
        assert {f["State"][0] for f in statuses.values()} == {"t"}  # each in a trace stop
        ticks = read_ticks(pid).ticks
        time.sleep(0.05)  # a window in which a running ticker would tick 50 times
        assert read_ticks(pid).ticks == ticks, "the ticker ran while stopped"
        os.kill(stop.pid, signal.SIGKILL)
        result = await stop.finish()
        assert result.error is not None  # it said nothing: killed before its result

    asyncio.run(kill_while_stopped())
    assert_running_untraced(pid)
    if runtime == "docker":
        state = subprocess.run(
            ["docker", "inspect", "-f", "{{.State.Running}} {{.State.Paused}}", container.name],
            capture_output=True,
            text=True,
            check=True,
        )
        assert state.stdout.split() == ["true", "false"]
    assert running(pid)


def test_the_reported_pause_is_the_ticker_s_gap_over_a_held_stop(
    start_container: StartContainer, core_fd: int
) -> None:
    """Held HOLD s: the pause (first interrupt to last detach) and the largest gap the
    program's own ticker saw agree within its period and a few ms of scheduling."""
    container, _ = started(start_container, "process")
    pid = container.pid
    reset_ticker(pid)

    async def held_then_released() -> float | None:
        stop, _ = await held_stop(pid, core_fd)
        await asyncio.sleep(HOLD)  # the stop's length, chosen by the test
        stop.send("")
        result = await stop.finish()
        assert result.error is None, result.error
        return result.pause_ms

    pause = asyncio.run(held_then_released())
    gap = read_ticks(pid).max_gap_ms
    assert pause is not None and pause >= HOLD * 1000
    assert -2.0 <= gap - pause <= 10.0, (pause, gap)
    assert_running_untraced(pid)


def test_the_core_s_notes_read_back(start_container: StartContainer, core_fd: int) -> None:
    container, _ = started(start_container, "docker")
    pid = container.pid

    async def taken():
        stop = await StackStop.start(pid, core_fd)
        return await stop.run(dynamic_linker_ranges(pid))

    result = asyncio.run(taken())
    assert result.error is None, result.error
    assert result.pause_ms is not None and 0 < result.pause_ms < 1000
    notes = read_core_notes(f"/proc/self/fd/{core_fd}")
    assert notes is not None
    assert (notes.pid, notes.command, notes.signal) == (1, "stalls", 0)
    assert notes.arguments == "/app/stalls"
    expected = sorted(t.lwp for t in result.threads)
    assert sorted(notes.lwps) == expected and len(expected) == WORKERS + 2
    assert notes.lwps[0] == 1  # the main thread first: gdb's thread 1
    assert notes.executable() == "/app/stalls"  # as the container names it
    assert any(path.endswith("/libc.so.6") for path in notes.paths())
    assert os.fstat(core_fd).st_size == result.core_bytes > result.stack_bytes > 0
    names = sorted(t.name or "" for t in result.threads)
    assert names.count("ticker") == 1 and names.count("stalls") == 1
    assert_running_untraced(pid)


TRACER = """
import ctypes, sys
libc = ctypes.CDLL("libc.so.6", use_errno=True)
libc.ptrace.argtypes = (ctypes.c_long, ctypes.c_long, ctypes.c_void_p, ctypes.c_void_p)
assert libc.ptrace(0x4206, int(sys.argv[1]), None, None) == 0, ctypes.get_errno()
print("seized", flush=True)
sys.stdin.readline()
"""


def test_a_thread_another_tracer_holds_is_one_line_and_nothing_stopped(
    start_container: StartContainer, core_fd: int, tmp_path: Path
) -> None:
    """Another tracer seized one worker (not stopping it): the stop process's seize of
    that thread fails before any interrupt; no thread was stopped, and once it ended
    only the other tracer's thread is traced."""
    container, _ = started(start_container, "process")
    pid = container.pid
    worker = sorted(int(name) for name in os.listdir(f"/proc/{pid}/task"))[-2]
    script = tmp_path / "tracer.py"
    script.write_text(TRACER)
    other = subprocess.Popen(
        [sys.executable, str(script), str(worker)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert other.stdout is not None and other.stdout.readline() == "seized\n"
        reset_ticker(pid)

        async def refused():
            stop = await StackStop.start(pid, core_fd)
            return await stop.run(dynamic_linker_ranges(pid))

        result = asyncio.run(refused())
        assert result.traced and result.error is not None
        assert result.pause_ms is None  # nothing was interrupted
        assert read_ticks(pid).max_gap_ms < 100
        traced = {tid: f["TracerPid"] for tid, f in thread_status(pid).items()}
        assert traced.pop(worker) == str(other.pid)
        assert set(traced.values()) == {"0"}
        cli = subprocess.run(
            [sys.executable, "-m", "cntr_tui.cli", "snapshot", str(pid)],
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert cli.returncode != 0 and cli.stdout == ""
        assert cli.stderr.count("\n") == 1 and cli.stderr.startswith("cntr-tui: process ")
        assert "already traced by PID" in cli.stderr
    finally:
        other.kill()
        other.wait()
    assert wait_until(lambda: tracer_of(pid) == 0)
    assert_running_untraced(pid)


SESSION_ROOT = "/var/lib/cntr"  # where the gdb path's session shows the container's root


def stacks_by_lwp(document: dict) -> dict[int, list[tuple]]:
    """Each thread's frames; the executable as the container names it (the gdb path
    names it under the session's root, the fast path as the process does)."""
    return {
        thread["lwp"]: [
            (f["function"], f["file"], f["line"], f["library"].removeprefix(SESSION_ROOT))
            for f in thread["frames"]
        ]
        for thread in document["threads"]
    }


@pytest.mark.parametrize("runtime", ["docker", "process"])
def test_the_fast_path_and_the_gdb_path_list_the_same_stacks(
    runtime: str, start_container: StartContainer
) -> None:
    """Every thread's frames (function, file, line, library) and name alike; only the
    tracer, the pause and the executable's name differ. The program sleeps in the same
    places each time."""
    container, word = started(start_container, runtime)
    fast, mark = snapshot(word, "--json")
    slow, _ = snapshot(word, "--json", "--via-gdb")
    assert fast.returncode == slow.returncode == 0, (fast.stderr, slow.stderr)
    assert fast.stderr == slow.stderr == ""  # no note: neither path was refused
    ours, gdbs = json.loads(fast.stdout), json.loads(slow.stdout)
    assert (ours["process"]["tracer"], gdbs["process"]["tracer"]) == ("ptrace", "gdbserver")
    assert stacks_by_lwp(ours) == stacks_by_lwp(gdbs)
    names = {t["lwp"]: t["name"] for t in ours["threads"]}
    assert names == {t["lwp"]: t["name"] for t in gdbs["threads"]}
    assert ours["pause"]["ms"] < gdbs["pause"]["ms"]
    assert not list(Path(tempfile.gettempdir()).glob("cntr-tui-stacks-*"))  # no core kept
    assert_nothing_left(mark, container.pid)


def test_where_the_fast_path_cannot_serve_one_line_says_why(
    start_container: StartContainer,
) -> None:
    container, word = started(start_container, "process")
    result, mark = snapshot(word, "--json", "--max-pause", "5000")
    assert result.returncode == 0, result.stderr
    assert result.stderr == (
        "cntr-tui: --max-pause reads the stacks through gdb while the program is stopped: "
        "the snapshot stops the program through gdb\n"
    )
    assert json.loads(result.stdout)["process"]["tracer"] == "gdbserver"
    assert_nothing_left(mark, container.pid)


def test_a_kept_core_opens_after_the_container_is_gone(
    start_container: StartContainer, tmp_path: Path
) -> None:
    """--keep-core: the fast stop's core kept (0600) with its objects and manifest; the
    container removed, `snapshot --core` lists the same stacks (the kept core has no
    thread names: a core holds none)."""
    container, word = started(start_container, "docker")
    core = tmp_path / "kept" / "core"
    live, mark = snapshot(word, "--json", "--keep-core", str(core))
    assert live.returncode == 0, live.stderr
    assert (
        live.stderr == f"cntr-tui: the core is kept at {core} (cntr-tui snapshot --core {core})\n"
    )
    assert core.stat().st_mode & 0o777 == 0o600
    assert json.loads(core.with_name("core.json").read_text())["process"]["tracer"] == "ptrace"
    existing, _ = snapshot(word, "--keep-core", str(core))  # refused before any stop
    assert existing.returncode != 0 and existing.stdout == ""
    assert existing.stderr == f"cntr-tui: {core} exists: choose another --keep-core FILE\n"
    assert_nothing_left(mark, container.pid)
    container.remove()
    kept, _ = snapshot("--core", str(core), "--json")
    assert kept.returncode == 0, kept.stderr
    sysroot = f"{core}.objects/sysroot"

    def stacks(document: dict) -> dict[int, list[tuple]]:
        return {
            lwp: [
                (f, file, line, (lib or "").removeprefix(sysroot)) for f, file, line, lib in frames
            ]
            for lwp, frames in stacks_by_lwp(document).items()
        }

    assert stacks(json.loads(kept.stdout)) == stacks(json.loads(live.stdout))


POOL = Program("thread_pool", "thread_pool.c", "gcc", ("-g", "-O0", "-pthread"))


def test_threads_that_appear_before_the_stop_are_stopped_and_unwound(
    start_container: StartContainer, core_fd: int
) -> None:
    """thread_pool starts a thread every 20 ms: those started after the stop process
    read the threads (and the maps) are seized in its loop, named by their id in the
    PID namespace, and their stacks (mapped since) copied: gdb unwinds every thread of
    the core to the program's own function."""
    container = start_container(
        "process", program="/app/thread_pool 4 200", root=root_with_program(POOL)
    )
    pid = container.pid
    assert wait_until(lambda: len(os.listdir(f"/proc/{pid}/task")) > 6)

    async def late_stop():
        stop = await StackStop.start(pid, core_fd)
        before = len(os.listdir(f"/proc/{pid}/task"))
        await asyncio.sleep(0.2)  # some ten threads more by the stop
        return before, await stop.run(dynamic_linker_ranges(pid))

    before, result = asyncio.run(late_stop())
    assert result.error is None, result.error
    assert len(result.threads) >= before + 5
    notes = read_core_notes(f"/proc/self/fd/{core_fd}")
    assert notes is not None
    in_namespace = sorted(int(status_of_task(pid, t.host_tid)) for t in result.threads)
    assert sorted(notes.lwps) == in_namespace == sorted(t.lwp for t in result.threads)
    traced = subprocess.run(
        [
            "gdb", "-nx", "-batch",
            "-ex", f"set sysroot /proc/{pid}/root",
            "-ex", f"file /proc/{pid}/root/app/thread_pool",
            "-ex", f"core-file /proc/{os.getpid()}/fd/{core_fd}",
            "-ex", "thread apply all bt",
        ],
        capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    stacks = traced.stdout.split("\nThread ")[1:]
    assert len(stacks) == len(result.threads), traced.stdout[-2000:]
    for stack in stacks:
        assert any(name in stack for name in (" in pool_wait ", " in late_wait ", " in main ")), (
            stack
        )
    assert_running_untraced_pool(pid)


def status_of_task(pid: int, tid: int) -> str:
    return thread_status(pid)[tid]["NSpid"].split()[-1]


def assert_running_untraced_pool(pid: int) -> None:
    assert wait_until(lambda: all(f["TracerPid"] == "0" for f in thread_status(pid).values()))
    for fields in thread_status(pid).values():
        assert fields["State"][0] in "SR", fields["State"]
        assert not pending(fields) & (1 << (SIGSTOP - 1) | 1 << (SIGTRAP - 1)), fields


def test_a_program_stopped_before_is_left_stopped_and_the_text_says_so(
    start_container: StartContainer,
) -> None:
    """A program SIGSTOPped before the snapshot stays stopped, untraced, and the first
    line says so (it said "running again untraced")."""
    container, word = started(start_container, "process")
    os.kill(container.pid, signal.SIGSTOP)
    try:
        statuses = lambda: thread_status(container.pid).values()  # noqa: E731
        assert wait_until(lambda: all(f["State"][0] == "T" for f in statuses()))
        done, mark = snapshot(word)
        assert done.returncode == 0, done.stderr
        first = done.stdout.splitlines()[0]
        assert first.endswith(", left stopped (SIGSTOP) as it was before, untraced"), first
        assert all(f["State"][0] == "T" and f["TracerPid"] == "0" for f in statuses())
    finally:
        os.kill(container.pid, signal.SIGCONT)
    assert_nothing_left(mark, container.pid)
    assert_running_untraced(container.pid)
