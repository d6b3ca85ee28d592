"""The caller's asyncio handle on a stack stop process (stack_stop_process.py): start it
(it reads what needs no stop and says `ready`), tell it to stop the program, copy the
stacks, let it go and write the core; read what it says.

    stop = await StackStop.start(host_pid, core_fd)
    result = await stop.run(dynamic_linker_ranges(host_pid))   # StopResult
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import struct
from dataclasses import dataclass

from cntr_tui.python_command import module_main_command

STOP_MODULE = "cntr_tui.debug.stack_stop_process"
RUN_TIMEOUT = 60.0  # s: the stop gives up after 5 s; the rest is writing the core
LINK_MAP_ENTRY = 40  # struct link_map's public part: l_addr, l_name, l_ld, l_next, l_prev
R_DEBUG_SIZE = 40


@dataclass(frozen=True)
class StoppedThread:
    host_tid: int
    lwp: int  # as the process's PID namespace sees it
    name: str | None


@dataclass(frozen=True)
class StopResult:
    """What the stop process said: `error` None when the core was written."""

    pause_ms: float | None
    threads: tuple[StoppedThread, ...]
    stack_bytes: int
    core_bytes: int
    error: str | None
    gone: bool  # the process exited meanwhile
    traced: bool  # another tracer holds a thread: nothing was stopped

    @classmethod
    def from_json(cls, document: dict[str, object]) -> StopResult:
        listed = document.get("threads") or []
        assert isinstance(listed, list)
        pause = document.get("pause_ms")
        return cls(
            float(pause) if isinstance(pause, int | float) else None,
            tuple(StoppedThread(int(t[0]), int(t[1]), t[2] or None) for t in listed),
            int(document.get("stacks") or 0),  # type: ignore[call-overload]
            int(document.get("core") or 0),  # type: ignore[call-overload]
            document.get("error"),  # type: ignore[arg-type]
            bool(document.get("gone")),
            bool(document.get("traced")),
        )


class StackStop:
    def __init__(self, process: asyncio.subprocess.Process):
        self._process = process

    @classmethod
    async def start(cls, host_pid: int, core_fd: int, *, hold: bool = False) -> StackStop:
        """The process started and ready (what needs no stop is read). Raises
        RuntimeError when it could not read the process (gone)."""
        process = await asyncio.create_subprocess_exec(
            *module_main_command(STOP_MODULE, isolated=True),
            str(host_pid),
            str(core_fd),
            *(["--hold-stopped"] if hold else []),
            stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE,
            pass_fds=(core_fd,),
        )
        stop = cls(process)
        first = await stop.line()
        if first != "ready":
            await stop.close()
            result = stop.result_of(first)
            raise RuntimeError(result.error or "the stack stop process ended at its start")
        return stop

    @property
    def pid(self) -> int:
        return self._process.pid

    async def line(self) -> str:
        assert self._process.stdout is not None
        return (await self._process.stdout.readline()).decode(errors="replace").strip()

    def send(self, text: str) -> None:
        assert self._process.stdin is not None
        with contextlib.suppress(BrokenPipeError, ConnectionResetError):
            self._process.stdin.write(text.encode() + b"\n")

    @staticmethod
    def result_of(line: str) -> StopResult:
        try:
            document = json.loads(line)
        except ValueError:
            document = None
        if not isinstance(document, dict):
            document = {"error": "the stack stop process ended without a result"}
        return StopResult.from_json(document)

    async def go(self, ranges: list[tuple[int, int]]) -> None:
        """Stop the program now (the result is `finish`'s)."""
        self.send("go " + ",".join(f"{address:x}:{length:x}" for address, length in ranges))

    async def finish(self) -> StopResult:
        try:
            line = await asyncio.wait_for(self.line(), RUN_TIMEOUT)
        except TimeoutError:
            line = ""
        await self.close()
        return self.result_of(line)

    async def run(self, ranges: list[tuple[int, int]]) -> StopResult:
        await self.go(ranges)
        return await self.finish()

    async def close(self) -> None:
        """It ends (killed if still running: the kernel lets every thread go)."""
        if self._process.returncode is None and self._process.stdin is not None:
            self._process.stdin.close()
        try:
            await asyncio.wait_for(self._process.wait(), 5)
        except TimeoutError:
            with contextlib.suppress(ProcessLookupError):
                self._process.kill()
            await self._process.wait()


def dynamic_linker_ranges(host_pid: int) -> list[tuple[int, int]]:
    """The memory gdb reads to list a process's shared objects (its program headers,
    dynamic section, r_debug, each link_map and name), as (address, length): read now,
    without a stop, and copied again by the stop process while stopped. Empty when it
    cannot be read (a static program: gdb then lists no library)."""
    from cntr_tui.gdb.symbols import link_map
    from cntr_tui.linux.procfs import read_bytes
    from cntr_tui.linux.ptrace import read_memory

    ranges: list[tuple[int, int]] = []

    def recorded(address: int, size: int) -> bytes:
        data = read_memory(host_pid, address, size)
        # gdb reads whole records: r_debug, a link_map with l_prev, a name and its NUL
        ranges.append((address, max(len(data), LINK_MAP_ENTRY, R_DEBUG_SIZE)))
        return data

    # on a failure, what was read so far is copied: gdb lists what it can
    with contextlib.suppress(OSError, struct.error, ValueError, OverflowError):
        link_map(read_bytes(host_pid, "auxv"), recorded)
    return ranges
