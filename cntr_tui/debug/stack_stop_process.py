"""The stack stop process: stops every thread of a program for as short a time as it
can, copies each thread's registers and stack, lets the program go, then writes what it
copied as a small ELF core (stack_core.py) for gdb to unwind after the program runs on.

Who starts it: `stack_stop.StackStop.start` (the fast path of `cntr-tui snapshot`), as
`python -I -S -c "...stack_stop_process import main; main()" HOST_PID CORE_FD
[--hold-stopped]`, never forked from the caller (which has threads). Where it runs: on
the host, in the host's namespaces, single-threaded (a ptrace tracer is one thread:
every call on a tracee must come from the thread that seized it). It reads the
program's /proc files and memory and writes only the core, at CORE_FD (a file the
caller made on the host, mode 0600): nothing goes into the container.

    stdout: `ready` once it has read what needs no stop (the maps, auxv, the threads'
            ids and names, the vDSO), then at the end one JSON line:
            {"pause_ms", "stopped_at", "resumed_at" (CLOCK_MONOTONIC, s),
             "threads": [[host_tid, tid_in_its_namespace, name], ...],
             "stacks": bytes copied, "core": bytes written, "error": str | null,
             "gone": bool, "traced": bool}
    stdin:  `go [ADDRESS:LENGTH,...]` (hex; the dynamic linker's list as the caller
            read it, copied again while stopped) starts the stop; its end without `go`
            ends it touching nothing.

The stop: PTRACE_SEIZE every thread of /proc/PID/task (no stop yet), PTRACE_INTERRUPT
each, wait for each stop, again for threads that appeared meanwhile; then for each
its registers (PTRACE_GETREGSET: general and floating point) and its stack from the
stack pointer minus the red zone (128 bytes) to the end of the mapping holding it
(at most STACK_LIMIT; process_vm_readv), then PTRACE_DETACH each (a thread stopped for
a signal of its own gets the signal back). The pause it reports is CLOCK_MONOTONIC
from before the first interrupt to after the last detach.

Safety: a seized thread is detached by the kernel when its tracer exits, however (a
SIGKILL while every thread is stopped included), and PTRACE_INTERRUPT queues no signal:
the program runs on, untraced, with nothing pending. `--hold-stopped` (tests) prints
`stopped N` once every thread is stopped and waits for a line on stdin before reading.
A thread another tracer holds makes the seize fail: it exits before interrupting any.

Imports: os, sys, json, bisect, _signal, the Linux layer's ptrace and stack_core (cheap).
"""

from __future__ import annotations

import _signal
import errno
import json
import os
import sys
import time
from bisect import bisect_right

from cntr_tui.debug.stack_core import CoreProcess, CoreThread, MappedRange, write_core
from cntr_tui.linux import ptrace

RED_ZONE = 128
STACK_LIMIT = 1 << 20  # per thread
TOTAL_LIMIT = 256 << 20  # all stacks together
STOP_TIMEOUT = 5  # s: threads that do not stop by then (a frozen cgroup) end the stop
ESRCH = errno.ESRCH


class StopFailed(Exception):
    pass


def status_of(path: str) -> dict[str, str]:
    fields: dict[str, str] = {}
    with open(path, encoding="utf-8", errors="replace") as file:
        for line in file:
            key, _, value = line.partition(":")
            fields[key] = value.strip()
    return fields


def thread_ids(pid: int) -> list[int]:
    return sorted(int(name) for name in os.listdir(f"/proc/{pid}/task"))


def thread_facts(pid: int, tid: int) -> tuple[int, str]:
    """(its id in its own PID namespace, its name); (tid, "") when it is gone."""
    try:
        fields = status_of(f"/proc/{pid}/task/{tid}/status")
    except OSError:
        return tid, ""
    nspid = fields.get("NSpid", str(tid)).split()
    return int(nspid[-1]), fields.get("Name", "")


class Mapping:
    __slots__ = ("end", "offset", "path", "perms", "start")

    def __init__(self, start: int, end: int, perms: str, offset: int, path: str):
        self.start, self.end, self.perms, self.offset, self.path = start, end, perms, offset, path


def read_maps(pid: int) -> list[Mapping]:
    mappings = []
    with open(f"/proc/{pid}/maps", encoding="utf-8", errors="replace") as maps:
        for line in maps:
            fields = line.rstrip("\n").split(maxsplit=5)
            if len(fields) < 5:
                continue
            start, end = (int(part, 16) for part in fields[0].split("-"))
            path = fields[5] if len(fields) == 6 else ""
            mappings.append(Mapping(start, end, fields[1], int(fields[2], 16), path))
    return mappings


def in_container(path: str, root: str) -> str:
    """A mapping's path as the process names it (a chrooted process's maps name the
    host's path under its root)."""
    root = root.rstrip("/")
    return path[len(root) :] if root and path.startswith(root + "/") else path


def mapped_files(mappings: list[Mapping], root: str) -> list[MappedRange]:
    return [
        MappedRange(m.start, m.end, m.offset, in_container(m.path, root))
        for m in mappings
        if m.path.startswith("/") and not m.path.startswith(("/dev/", "/memfd:"))
    ]


def process_info(pid: int, root_pid: int) -> CoreProcess:
    fields = status_of(f"/proc/{pid}/status")
    with open(f"/proc/{pid}/cmdline", "rb") as file:
        words = file.read().replace(b"\0", b" ").decode(errors="replace").strip()
    return CoreProcess(
        root_pid,
        int(fields.get("PPid", "0")),
        int(fields.get("Uid", "0").split()[0]),
        int(fields.get("Gid", "0").split()[0]),
        fields.get("Name", ""),
        words,
        fields.get("State", "R")[:1],
    )


def mapping_at(mappings: list[Mapping], starts: list[int], address: int) -> Mapping | None:
    """The mapping holding `address`; `starts`: the mappings' starts, sorted as they are
    (/proc/PID/maps lists them by address)."""
    index = bisect_right(starts, address) - 1
    if index >= 0 and address < mappings[index].end:
        return mappings[index]
    return None


class Stop:
    """The threads seized and stopped, with what each was stopped for."""

    def __init__(self, pid: int):
        self.pid = pid
        self.seized: list[int] = []
        self.signals: dict[int, int] = {}  # stopped thread -> its signal to give back
        self.gone: set[int] = set()
        self.first_interrupt: float | None = None

    def seize_new(self) -> list[int]:
        """Seize the threads not yet seized (none is stopped by this)."""
        try:
            listed = thread_ids(self.pid)
        except OSError as error:
            raise StopFailed("the process exited") from error
        new = [tid for tid in listed if tid not in self.signals and tid not in self.gone]
        seized = []
        for tid in new:
            if tid in self.seized:
                continue
            try:
                ptrace.seize(tid)
            except OSError as error:
                if error.errno == ESRCH:
                    self.gone.add(tid)
                    continue
                raise
            self.seized.append(tid)
            seized.append(tid)
        return seized

    def stop(self) -> None:
        """Every thread stopped, those that appear meanwhile too."""
        while True:
            new = self.seize_new()
            if not new:
                return
            if self.first_interrupt is None:
                self.first_interrupt = time.monotonic()
            waiting = set()
            for tid in new:
                try:
                    ptrace.interrupt(tid)
                    waiting.add(tid)
                except OSError as error:
                    if error.errno != ESRCH:
                        raise
                    self.gone.add(tid)
            while waiting:
                tid, status = ptrace.wait_stop()
                if os.WIFSTOPPED(status):
                    self.signals[tid] = ptrace.stop_signal(status)
                else:  # it exited (the whole process, when the main thread did)
                    self.gone.add(tid)
                    if tid == self.pid:
                        raise StopFailed("the process exited")
                waiting.discard(tid)

    def detach(self) -> None:
        for tid, signal in self.signals.items():
            try:
                ptrace.detach(tid, signal)
            except OSError:
                continue  # gone meanwhile
        self.signals.clear()


def copy_threads(
    stop: Stop, mappings: list[Mapping], names: dict[int, tuple[int, str]]
) -> tuple[list[CoreThread], list[tuple[int, bytes]]]:
    buffers = ptrace.RegisterBuffers()
    starts = [mapping.start for mapping in mappings]
    threads: list[CoreThread] = []
    stacks: list[tuple[int, bytes]] = []
    total = 0
    reread = False
    for tid in sorted(stop.signals):
        try:
            general = buffers.general(tid)
            floating = buffers.floating(tid)
        except OSError:
            continue
        if tid not in names:  # it appeared after the names were read: its id, now
            names[tid] = thread_facts(stop.pid, tid)
        threads.append(CoreThread(names[tid][0], general, floating, stop.signals[tid]))
        low = ptrace.register(general, ptrace.RSP_INDEX) - RED_ZONE
        mapping = mapping_at(mappings, starts, low) or mapping_at(mappings, starts, low + RED_ZONE)
        if mapping is None and not reread:  # a stack mapped since the maps were read
            reread = True
            try:  # noqa: SIM105  contextlib's import costs our start
                mappings[:] = read_maps(stop.pid)
            except OSError:
                pass
            starts = [mapping.start for mapping in mappings]
            mapping = mapping_at(mappings, starts, low) or mapping_at(
                mappings, starts, low + RED_ZONE
            )
        if mapping is None or total >= TOTAL_LIMIT:
            continue
        low = max(low, mapping.start)
        length = min(mapping.end - low, STACK_LIMIT, TOTAL_LIMIT - total)
        try:
            data = ptrace.read_memory(stop.pid, low, length)
        except OSError:
            continue
        stacks.append((low, data))
        total += len(data)
    return threads, stacks


def copy_ranges(pid: int, ranges: list[tuple[int, int]]) -> list[tuple[int, bytes]]:
    copied = []
    for address, length in ranges:
        try:
            copied.append((address, ptrace.read_memory(pid, address, length)))
        except OSError:
            continue
    return copied


def parse_ranges(words: list[str]) -> list[tuple[int, int]]:
    ranges = []
    for word in ",".join(words).split(","):
        if ":" in word:
            address, length = word.split(":", 1)
            ranges.append((int(address, 16), int(length, 16)))
    return ranges


def say(document: dict[str, object]) -> None:
    try:
        sys.stdout.write(json.dumps(document) + "\n")
        sys.stdout.flush()
    except OSError:
        pass


def on_alarm(number: int, frame: object) -> None:
    raise StopFailed(f"the threads did not stop within {STOP_TIMEOUT} s")


def main() -> None:
    pid, core_fd = int(sys.argv[1]), int(sys.argv[2])
    hold = "--hold-stopped" in sys.argv[3:]
    result: dict[str, object] = {"error": None, "gone": False, "traced": False}
    try:
        root = os.readlink(f"/proc/{pid}/root")
        mappings = read_maps(pid)
        with open(f"/proc/{pid}/auxv", "rb") as file:
            auxv = file.read()
        names = {tid: thread_facts(pid, tid) for tid in thread_ids(pid)}
        process = process_info(pid, names.get(pid, (pid, ""))[0])
        vdso = [m for m in mappings if m.path == "[vdso]"]
        extra = copy_ranges(pid, [(m.start, m.end - m.start) for m in vdso])
    except OSError as error:
        say({**result, "error": f"reading /proc/{pid}: {error.strerror}", "gone": True})
        return
    sys.stdout.write("ready\n")
    sys.stdout.flush()
    line = sys.stdin.readline().split()
    if not line or line[0] != "go":
        return
    ranges = parse_ranges(line[1:])
    stop = Stop(pid)
    _signal.signal(_signal.SIGALRM, on_alarm)
    _signal.alarm(STOP_TIMEOUT)
    try:
        stop.stop()
        _signal.alarm(0)
        if hold:
            sys.stdout.write(f"stopped {len(stop.signals)}\n")
            sys.stdout.flush()
            sys.stdin.readline()
        threads, stacks = copy_threads(stop, mappings, names)
        extra += copy_ranges(pid, ranges)
    except StopFailed as error:
        stop.detach()
        say({**result, "error": str(error), "gone": "exited" in str(error)})
        return
    except OSError as error:
        stop.detach()
        traced = error.errno == errno.EPERM
        say({**result, "error": f"stopping the threads: {error.strerror}", "traced": traced})
        return
    finally:
        _signal.alarm(0)
    stop.detach()
    resumed = time.monotonic()
    pause_ms = (resumed - (stop.first_interrupt or resumed)) * 1000.0
    for tid in stop.seized:
        if tid not in names:
            names[tid] = thread_facts(pid, tid)
    listed = [[tid, *names[tid]] for tid in sorted(stop.seized) if tid not in stop.gone]
    try:
        size = write_core(
            core_fd, process, threads, auxv, mapped_files(mappings, root), stacks + extra
        )
    except OSError as error:
        say({**result, "pause_ms": pause_ms, "error": f"writing the core: {error.strerror}"})
        return
    say(
        {
            **result,
            "pause_ms": pause_ms,
            "stopped_at": stop.first_interrupt,
            "resumed_at": resumed,
            "threads": listed,
            "stacks": sum(len(data) for _, data in stacks),
            "core": size,
        }
    )
