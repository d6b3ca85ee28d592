"""`cntr-tui gdb CONTAINER` on a real terminal: gdb's own console, attached through
gdbserver with the trap guard holding its connection.

A quit leaves the program running untraced; a SIGKILL of the console's gdb while a hot
conditional breakpoint is inserted (threads.c:33, ~1,000 hits per tick and worker, see
test_gdb_hot_breakpoint.py) leaves it running too: the guard detaches gdbserver, no
trap left. Afterwards nothing of ours is left: no gdbserver or gdb in the
container, no guard, no file server for it.
"""

from __future__ import annotations

import os
import pty
import re
import signal
import subprocess

import pytest

from cntr_tui.debug.interrupt_relay import InterruptFilter
from tests.support.cli import BARE_ENVIRONMENT, CNTR_TUI, NAMESPACE_WARNING, read_until
from tests.support.proc import (
    assert_runs_on_untouched,
    command_lines,
    guard_pids,
    pid_namespace,
    process_state,
    processes_in_pid_namespace_of,
    read_byte,
    read_u64,
    running,
    tracer_of,
    wait_until,
)

PROMPT = b"(gdb) "
HOT_BREAKPOINT = b"break threads.c:33 if i < 0"


def container_processes(pid: int) -> dict[int, str]:
    """PID -> comm of every process in `pid`'s PID namespace."""
    namespace = pid_namespace(pid)
    found = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            if pid_namespace(entry) == namespace:
                with open(f"/proc/{entry}/comm") as comm:
                    found[int(entry)] = comm.read().strip()
        except OSError:
            continue
    return found


def helpers_for(pid: int) -> list[str]:
    """Host processes of ours that serve or guard `pid`: its file server, a trap guard."""
    return [
        " ".join(argv)
        for argv in command_lines().values()
        if ("cntr_tui.fs.server" in argv and f"--pid={pid}" in argv)
        or guard_pids(argv)[1:2] == [pid]
    ]


def nothing_left(pid: int, before: dict[int, str]) -> bool:
    return container_processes(pid) == before and not helpers_for(pid)


class Console:
    """`cntr-tui gdb NAME` on a fresh PTY."""

    def __init__(self, name: str):
        self.master, slave = pty.openpty()
        self.process = subprocess.Popen(
            [*CNTR_TUI, "gdb", name],
            stdin=slave,
            stdout=slave,
            stderr=slave,
            start_new_session=True,
            env={**os.environ, "TERM": "dumb"},
        )
        os.close(slave)

    def prompt(self) -> bytes:
        output = read_until(self.master, PROMPT)
        assert PROMPT in output, output[-800:]
        return output

    def run(self, command: bytes) -> bytes:
        os.write(self.master, command + b"\n")
        return self.prompt()

    def close(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait()
        os.close(self.master)


@pytest.mark.parametrize("setting", ["docker", "docker as 1000:1000", "bare process"])
def test_console_quits_leaving_the_program_running(start_container, setting):
    """gdb's own console, through gdbserver: also as a non-root container user (the
    bridge must reach gdbserver's pipes, and nothing of ours it runs may need root: our
    Python is under /root here), and in a container with no /dev/null whose environment
    names a shell the host lacks."""
    if setting == "bare process":
        container = start_container("process", env=BARE_ENVIRONMENT)
        word = str(container.pid)
    else:
        user = {"user": "1000:1000"} if setting.endswith("1000:1000") else {}
        container = start_container("docker", **user)
        word = container.name
    before = container_processes(container.pid)
    console = Console(word)
    try:
        banner = console.prompt()
        assert b"Remote debugging using" in banner, banner[-800:]  # through gdbserver
        assert b"Target disconnected" not in banner, banner[-800:]  # (then gdb traces)
        assert b"gdbserver is not available" not in banner
        tracer = tracer_of(container.pid)
        assert tracer in processes_in_pid_namespace_of(container.pid, "gdbserver")
        backtrace = console.run(b"thread apply all bt")
        assert b"in main () at threads.c" in backtrace, backtrace[-800:]
        assert b"worker_main" in backtrace and b'"worker-2"' in backtrace
        # Ctrl-C while it runs: a SIGINT to the program, not gdbserver's kill(-1) in
        # the container (that one would end gdb's bridge: "Remote connection closed")
        os.write(console.master, b"continue\n")
        assert b"Continuing." in read_until(console.master, b"Continuing.")
        assert wait_until(lambda: process_state(container.pid) in ("S", "R"))
        os.write(console.master, b"\x03")
        interrupted = console.prompt()
        # a signal to the process: any of its threads may be the one that takes it
        assert re.search(rb'"(threads|worker-\d)" received signal SIGINT', interrupted), (
            interrupted[-800:]
        )
        assert b"in main () at threads.c" in console.run(b"thread apply 1 bt")
        os.write(console.master, b"quit\n")
        assert console.process.wait(30) == 0
        rest = read_until(console.master, b"\0", 1.0)
        assert b"cntr-tui:" not in rest, rest  # no guard note after a clean quit
    finally:
        console.close()
    assert running(container.pid)
    assert wait_until(lambda: tracer_of(container.pid) == 0)
    assert wait_until(lambda: process_state(container.pid) in ("S", "R"))
    assert wait_until(lambda: nothing_left(container.pid, before), 15), (
        container_processes(container.pid),
        helpers_for(container.pid),
    )


def number_in(pattern: bytes, output: bytes) -> int:
    match = re.search(pattern, output)
    assert match is not None, (pattern, output[-800:])
    return int(match.group(1), 16)


def test_killing_the_console_gdb_at_a_hot_breakpoint_leaves_the_program_running(
    start_container,
):
    container = start_container("docker")
    pid = container.pid
    before = container_processes(pid)
    console = Console(container.name)
    try:
        console.prompt()
        console.run(HOT_BREAKPOINT)
        listing = console.run(b"info breakpoints")
        address = number_in(rb"\s(0x[0-9a-f]+)\s+in compute_step at ", listing)
        counter = number_in(
            rb"\$\d+ = \(unsigned long \*\) (0x[0-9a-f]+)",
            console.run(b"print &workers[1].iterations"),
        )
        original = read_byte(pid, address)
        assert original != b"\xcc"
        os.write(console.master, b"continue\n")
        assert b"Continuing." in read_until(console.master, b"Continuing.")
        assert wait_until(lambda: read_byte(pid, address) == b"\xcc")  # inserted
        ticks = read_u64(pid, counter)
        assert wait_until(lambda: read_u64(pid, counter) > ticks)  # running through it
        gdbs = [p for p, comm in container_processes(pid).items() if comm == "gdb"]
        assert len(gdbs) == 1, container_processes(pid)
        os.kill(gdbs[0], signal.SIGKILL)
        assert console.process.wait(30) == 128 + signal.SIGKILL
        note = read_until(console.master, b"runs on", 5.0)
        assert b"the guard detached gdbserver" in note, note[-800:]
    finally:
        console.close()
    assert_runs_on_untouched(pid, address, original, counter)
    assert wait_until(lambda: nothing_left(pid, before), 15), (
        container_processes(pid),
        helpers_for(pid),
    )


def test_interrupt_filter_takes_out_only_interrupts_outside_packets():
    stream = InterruptFilter()
    # an ack, an interrupt, a binary write holding 0x03 (data), a split packet, another ^C
    assert stream.feed(b"+\x03$X1000,1:\x03#a4$m10") == (b"+$X1000,1:\x03#a4$m10", 1)
    assert stream.feed(b",4#5b\x03") == (b",4#5b", 1)
    assert stream.feed(b"$vCont;c#a8") == (b"$vCont;c#a8", 0)
    # back outside after the checksum: both are interrupts
    assert stream.feed(b"\x03\x03") == (b"", 2)


def test_console_threads_and_sources_in_a_terminal(start_container):
    container = start_container("docker")
    console = Console(container.name)
    try:
        assert NAMESPACE_WARNING.encode() not in console.prompt()
        threads = console.run(b"info threads")
        # the main thread: 'Thread 1.1' through gdbserver, '(LWP 1)' when gdb traces
        assert re.search(rb'(Thread 1\.1|\(LWP 1\)) "threads"', threads), threads
        assert b'"worker-2"' in threads
        assert b"w->iterations++" in console.run(b"list threads.c:38,38")
        os.write(console.master, b"quit\n")
        assert console.process.wait(30) == 0
    finally:
        console.close()
    assert wait_until(lambda: tracer_of(container.pid) == 0)
    assert running(container.pid)


def test_the_console_prints_cpp_containers_through_the_hosts_printers(start_container):
    """gdb's own console gets the host's libstdc++ printers too (gdb/printers.py)."""
    container = start_container("docker", program="/app/shapes")
    console = Console(container.name)
    try:
        console.prompt()
        console.run(b"break inventory::count_round")
        stopped = console.run(b"continue")
        assert b"count_round" in stopped, stopped[-400:]
        shown = console.run(b"up")
        assert b"keep_inventory" in shown, shown[-400:]
        printed = console.run(b"print counts")
        assert b"std::vector of length 3, capacity 3 = {1, 2, 3}" in printed, printed[-400:]
        os.write(console.master, b"quit\n")
        assert console.process.wait(30) == 0
    finally:
        console.close()
    assert wait_until(lambda: tracer_of(container.pid) == 0)
    assert running(container.pid)
