"""`cntr-tui snapshot` on real containers (docker, plain namespaces) running
/app/stalls: every thread with its functions and lines, the program running on untraced
afterwards, the reported pause against the largest gap the program's own ticker saw,
the JSON against its schema, and the bad inputs (one line, nothing left behind)."""

from __future__ import annotations

import json
import os
import re
import signal
import struct
import subprocess
import threading
import time
import uuid
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.support.cli import CNTR_TUI
from tests.support.proc import processes_with_environment, running, tracer_of, wait_until
from tests.support.runtimes import StartContainer
from tests.unit.test_snapshot_schema import validate

MARK = "CNTR_TEST_SNAPSHOT_RUN"
WORKERS = 8  # stalls.c's default
SOURCE = Path(__file__).resolve().parents[2] / "cntr_tui/demo/programs/stalls.c"
# Ours is the longer: it starts at the attach's request and gdbserver stops the ticker
# after the threads before it; the ticker's period (1 ms); the detach's answer comes
# 2-4 ms after the threads run again (measured with CNTR_TUI_GDB_TRACE under load)
GAP_SLACK_MS = 10.0
NOISE_WINDOW = 0.3  # s: the ticker's largest gap while nothing stops it, its resolution


def line_of(marker: str) -> int:
    """The line of stalls.c that holds `marker` (a comment on it)."""
    lines = SOURCE.read_text().splitlines()
    return next(number for number, text in enumerate(lines, 1) if marker in text)


@dataclass(frozen=True)
class Ticks:
    ticks: int
    max_gap_ms: float
    reset: int
    reset_seen: int
    spins: int


def stats_path(pid: int) -> str:
    return f"/proc/{pid}/root/tmp/stalls.stats"


def read_ticks(pid: int) -> Ticks:
    with open(stats_path(pid), "rb") as stats:
        ticks, gap, _, _, reset, seen, _, spins = struct.unpack("<8Q", stats.read(64))
    return Ticks(ticks, gap / 1e6, reset, seen, spins)


def reset_ticker(pid: int) -> None:
    """A fresh largest gap from now on (the ticker acknowledges the reset)."""
    wanted = read_ticks(pid).reset + 1
    fd = os.open(stats_path(pid), os.O_RDWR)
    try:
        os.pwrite(fd, struct.pack("<Q", wanted), 32)
    finally:
        os.close(fd)
    assert wait_until(lambda: read_ticks(pid).reset_seen == wanted)


def snapshot(*args: str) -> tuple[subprocess.CompletedProcess[str], str]:
    """Run it with a mark in its environment, to find any process of ours it leaves."""
    mark = uuid.uuid4().hex
    environment = {**os.environ, MARK: mark}
    argv = [*CNTR_TUI, "snapshot", *args]
    result = subprocess.run(argv, capture_output=True, text=True, timeout=120, env=environment)
    assert "Traceback" not in result.stderr, result.stderr
    return result, mark


def assert_nothing_left(mark: str, pid: int) -> None:
    assert processes_with_environment(f"{MARK}={mark}") == []
    assert wait_until(lambda: tracer_of(pid) == 0) and running(pid)
    before = read_ticks(pid)
    assert wait_until(lambda: read_ticks(pid).ticks > before.ticks + 5), "the ticker stopped"
    assert wait_until(lambda: read_ticks(pid).spins > before.spins), "the workers stopped"


def started(start_container: StartContainer, runtime: str, program: str = "/app/stalls"):
    container = start_container(runtime, program=program)
    assert wait_until(lambda: os.path.exists(stats_path(container.pid)))
    assert wait_until(lambda: read_ticks(container.pid).ticks > 2)
    word = container.name if runtime == "docker" else str(container.pid)
    return container, word


@pytest.mark.parametrize("runtime", ["docker", "process"])
def test_every_thread_listed_with_lines_and_the_pause_the_ticker_saw(
    runtime: str, start_container: StartContainer
) -> None:
    container, word = started(start_container, runtime)
    snapshot(word, "--json")  # warm: gdb's index cache and the page cache are filled
    reset_ticker(container.pid)
    time.sleep(NOISE_WINDOW)  # a measurement window, not a wait for readiness
    noise = read_ticks(container.pid).max_gap_ms  # the machine's scheduling, as it sees it
    reset_ticker(container.pid)
    result, mark = snapshot(word, "--json")
    gap = read_ticks(container.pid).max_gap_ms
    assert result.returncode == 0, result.stderr
    output = json.loads(result.stdout)
    assert validate(output) == []
    assert output["process"]["host_pid"] == container.pid and output["process"]["pid"] == 1
    assert output["container"]["runtime"] == runtime and output["complete"] is True
    threads = output["threads"]
    assert len(threads) == WORKERS + 2 == len(os.listdir(f"/proc/{container.pid}/task"))

    def user_frames(thread: dict) -> list[tuple[str, int]]:
        return [(f["function"], f["line"]) for f in thread["frames"] if f["file"] == "stalls.c"]

    workers = [t for t in threads if t["name"].startswith("worker-")]
    assert sorted(t["name"] for t in workers) == [f"worker-{n}" for n in range(WORKERS)]
    spin_line, worker_line = line_of("the workers' line"), line_of("spin(id);")
    for worker in workers:
        assert user_frames(worker) == [("spin", spin_line), ("worker_main", worker_line)]
        spin = next(f for f in worker["frames"] if f["function"] == "spin")
        assert spin["library"].endswith("/app/stalls")
    (ticker,) = [t for t in threads if t["name"] == "ticker"]
    assert user_frames(ticker) == [
        ("tick_forever", line_of("the ticker's line")),
        ("ticker_main", line_of("tick_forever();")),
    ]
    assert ticker["frames"][0]["library"].endswith("libc.so.6")
    (main,) = [t for t in threads if t["lwp"] == 1]
    assert user_frames(main) == [("main", line_of("main's line"))]

    pause = output["pause"]["ms"]
    assert output["process"]["tracer"] == "ptrace"  # the fast path: our own stop
    # The fast path stops the program for ~1 ms: the ticker saw at least that gap. Its
    # largest gap over the whole command is most often outside the stop (gdb and our
    # Python on 2 CPUs beside other load: 23.7 ms against a 0.9 ms pause in a loaded
    # run), so it is no upper bound on the pause; that the pause is not under-reported
    # is test_snapshot_stop's held-stop test, where the stop is long enough to stand out
    assert pause - gap <= GAP_SLACK_MS + noise, (pause, gap, noise)
    assert_nothing_left(mark, container.pid)
    # --locals: the values are read from the program's memory while gdb holds it
    # stopped (the fast stop's copy has the stacks alone), and stderr says so
    result, mark = snapshot(word, "--json", "--locals")
    assert result.returncode == 0, result.stderr
    assert result.stderr == (
        "cntr-tui: --locals reads the values from the program's memory while it is stopped: "
        "the snapshot stops the program through gdb\n"
    )
    output = json.loads(result.stdout)
    assert validate(output) == [] and output["process"]["tracer"] == "gdbserver"
    workers = [t for t in output["threads"] if t["name"].startswith("worker-")]
    assert len(workers) == WORKERS
    for worker in workers:
        spin = next(f for f in worker["frames"] if f["function"] == "spin")
        names = {v["name"]: v for v in spin["locals"]}
        assert names["id"]["argument"] and names["rounds"]["value"].isdigit()
        assert f"worker-{names['id']['value']}" == worker["name"]
    assert_nothing_left(mark, container.pid)


def test_the_text_groups_identical_stacks_with_counts(start_container: StartContainer) -> None:
    container, word = started(start_container, "docker")
    result, mark = snapshot(word)
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0].startswith(f"docker {container.name}, process 1 (host PID {container.pid}): ")
    assert f": {WORKERS + 2} threads, stopped for " in lines[0]
    groups = [line for line in lines if re.match(r"\d+ threads? in ", line)]
    counts = [int(line.split()[0]) for line in groups]
    assert sum(counts) == WORKERS + 2 and counts[0] == WORKERS
    assert groups[0].endswith("<- spin <- worker_main <- start_thread <- clone")
    spin_line = line_of("the workers' line")
    assert f"  #2  spin at stalls.c:{spin_line}" in result.stdout
    assert_nothing_left(mark, container.pid)


def test_a_pause_budget_stops_reading_and_says_what_is_missing(
    start_container: StartContainer,
) -> None:
    container, word = started(start_container, "process", program="/app/stalls 200")
    result, mark = snapshot(word, "--json", "--max-pause", "1")
    assert result.returncode == 0, result.stderr
    output = json.loads(result.stdout)
    assert validate(output) == []
    assert output["pause"]["budget_ms"] == 1 and output["complete"] is False
    unread = [t for t in output["threads"] if not t["complete"]]
    assert len(output["threads"]) == 202 and len(unread) > 100
    assert len(output["missing"]) == len(unread)
    assert all(len(t["frames"]) <= 1 for t in unread)  # the top frame gdb listed, at most
    text, _ = snapshot(word, "--max-pause", "1")
    assert "missing (the pause budget ran out): the stacks of " in text.stdout
    assert_nothing_left(mark, container.pid)


def test_an_unknown_container_is_one_line() -> None:
    result, mark = snapshot("no-such-container-cntr-test")
    assert result.returncode != 0 and result.stdout == ""
    assert result.stderr.startswith("cntr-tui: ") and result.stderr.count("\n") == 1
    assert processes_with_environment(f"{MARK}={mark}") == []


def test_a_paused_container_is_refused_in_one_line(start_container: StartContainer) -> None:
    container, word = started(start_container, "docker")
    subprocess.run(["docker", "pause", container.name], check=True, capture_output=True)
    try:
        result, mark = snapshot(word)
        assert processes_with_environment(f"{MARK}={mark}") == []
    finally:
        subprocess.run(["docker", "unpause", container.name], check=True, capture_output=True)
    assert result.returncode != 0 and result.stdout == ""
    assert result.stderr == (
        f"cntr-tui: docker container {container.name} is paused: its processes are frozen, "
        f"so nothing can attach to them (fix: docker unpause {container.name})\n"
    )
    assert_nothing_left(mark, container.pid)


def test_a_process_that_exits_during_the_snapshot_is_one_line(
    start_container: StartContainer,
) -> None:
    """Killed once our tracer holds it (TracerPid set): 1,000 threads keep it stopped
    long enough for the kill to land inside the snapshot."""
    container, word = started(start_container, "process", program="/app/stalls 1000")
    pid = container.pid
    killed = threading.Event()

    def kill_when_traced() -> None:
        while not killed.is_set():
            try:
                if tracer_of(pid) != 0:
                    os.kill(pid, signal.SIGKILL)
                    killed.set()
            except (OSError, ValueError):
                return

    killer = threading.Thread(target=kill_when_traced, daemon=True)
    killer.start()
    try:
        result, mark = snapshot(word)
    finally:
        killed.set()
        killer.join()
    assert result.returncode != 0 and result.stdout == "", result.stdout[:300]
    lines = result.stderr.splitlines()
    assert len(lines) == 1, lines
    assert lines[0].startswith(f"cntr-tui: process {pid} (process ")
    assert lines[0].endswith(") exited during the snapshot")
    assert processes_with_environment(f"{MARK}={mark}") == []
    assert wait_until(lambda: not os.path.exists(f"/proc/{pid}/status") or not running(pid))
