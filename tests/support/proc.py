"""/proc readings the gdb and app tests make of a debugged process."""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from pathlib import Path


def command_line(pid: int | str) -> list[str]:
    with open(f"/proc/{pid}/cmdline", "rb") as cmdline:
        return cmdline.read().decode(errors="replace").split("\0")


def command_lines() -> dict[int, list[str]]:
    """PID -> argv of every process (those that end meanwhile are left out)."""
    found = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                found[int(entry)] = command_line(entry)
            except OSError:
                continue
    return found


def processes_with_environment(entry: str) -> list[int]:
    """Processes whose environment holds `entry` ("NAME=value"): a test runs a command
    with a unique one to find whatever that command left behind (its children inherit
    it). Zombies are left out: they hold nothing."""
    found = []
    for pid in os.listdir("/proc"):
        if pid.isdigit():
            try:
                environment = Path(f"/proc/{pid}/environ").read_bytes()
                if entry.encode() in environment.split(b"\0") and process_state(pid) != "Z":
                    found.append(int(pid))
            except (OSError, IndexError):
                continue
    return found


def pid_namespace(pid: int | str) -> int | None:
    """The inode of `pid`'s PID namespace; None once it is gone."""
    try:
        return os.stat(f"/proc/{pid}/ns/pid").st_ino
    except OSError:
        return None


def status_number(pid: int, field: str) -> int:
    """A numeric field of /proc/PID/status (TracerPid, PPid, ...)."""
    with open(f"/proc/{pid}/status") as status:
        for line in status:
            if line.startswith(f"{field}:"):
                return int(line.split()[1])
    raise AssertionError(f"no {field} line for {pid}")


def tracer_of(pid: int) -> int:
    return status_number(pid, "TracerPid")


def parent_of(pid: int) -> int:
    return status_number(pid, "PPid")


def process_state(pid: int | str) -> str:
    with open(f"/proc/{pid}/stat") as stat:
        return stat.read().rpartition(")")[2].split()[0]


def read_memory(pid: int, address: int, length: int) -> bytes:
    with open(f"/proc/{pid}/mem", "rb", buffering=0) as memory:
        memory.seek(address)
        return memory.read(length)


def read_byte(pid: int, address: int) -> bytes:
    return read_memory(pid, address, 1)


def read_u64(pid: int, address: int) -> int:
    return int.from_bytes(read_memory(pid, address, 8), "little")


def wait_until(
    condition: Callable[[], bool], timeout: float = 10.0, interval: float = 0.05
) -> bool:
    """Poll a /proc condition with a deadline (no event exists for these)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(interval)
    return condition()


def running(pid: int) -> bool:
    """Alive and not a zombie (our process is the parent of some session processes)."""
    try:
        return process_state(pid) != "Z"
    except OSError:
        return False


def assert_runs_on_untouched(pid: int, address: int, original: bytes, counter: int) -> None:
    """The program outlived its debugger: alive, untraced, the original byte back at the
    breakpoint `address`, not stopped, and its `counter` still moving."""
    assert running(pid), "the program died"
    assert wait_until(lambda: tracer_of(pid) == 0), f"still traced by {tracer_of(pid)}"
    assert read_byte(pid, address) == original, "a trap is left in the code"
    assert wait_until(lambda: process_state(pid) in ("S", "R")), process_state(pid)
    ticks = read_u64(pid, counter)
    assert wait_until(lambda: read_u64(pid, counter) > ticks), "the program stopped ticking"


def namespace_pid(host_pid: int) -> int:
    with open(f"/proc/{host_pid}/status") as status:
        for line in status:
            if line.startswith("NSpid:"):
                return int(line.split()[-1])
    raise AssertionError("no NSpid")


def guard_pids(argv: list[str]) -> list[int]:
    """[gdb's PID, the target's PID] from a trap guard's command line; [] for others."""
    for index, argument in enumerate(argv):
        if "cntr_tui.gdb.guard" in argument:
            return [int(value) for value in argv[index + 1 : index + 3] if value.isdigit()]
    return []


def processes_in_pid_namespace_of(pid: int, program: str) -> set[int]:
    """Host PIDs of processes in the PID namespace of `pid` with `program` as the last
    part of one of their first arguments (gdbserver runs through the host's loader)."""
    namespace = pid_namespace(pid)
    if namespace is None:
        return set()
    return {
        found
        for found, argv in command_lines().items()
        if program in {os.path.basename(argument) for argument in argv[:8]}
        and pid_namespace(found) == namespace
    }
