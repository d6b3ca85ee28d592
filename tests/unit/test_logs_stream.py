"""LogStream (a producer task behind lines() and close()) and the file follower, on a
real file and a real child process of the test. No root, no runtime."""

from __future__ import annotations

import asyncio
import os
import subprocess
from collections.abc import AsyncIterator
from pathlib import Path

from cntr_tui.logs.follow import follow
from cntr_tui.logs.records import LogLine
from cntr_tui.logs.stream import Emit, LogStream

DEADLINE = 10.0


async def taken(lines: AsyncIterator[LogLine] | AsyncIterator[str], count: int) -> list:
    async def collect() -> list:
        found = []
        async for line in lines:
            found.append(line)
            if len(found) == count:
                break
        return found

    return await asyncio.wait_for(collect(), DEADLINE)


async def test_nothing_runs_before_lines_and_close_first_ends_them() -> None:
    started: list[bool] = []

    async def produce(emit: Emit) -> None:
        started.append(True)

    logs = LogStream("test", produce)
    await logs.close()
    assert await taken(logs.lines(), 1) == [] and started == []


async def test_close_cancels_the_producer_and_its_finally_runs() -> None:
    cleaned = asyncio.Event()

    async def produce(emit: Emit) -> None:
        emit(LogLine("one", "stdout"))
        try:
            await asyncio.Event().wait()
        finally:
            cleaned.set()

    logs = LogStream("test", produce)
    lines = logs.lines()
    assert await taken(lines, 1) == [LogLine("one", "stdout")]
    await logs.close()
    assert cleaned.is_set()
    assert await taken(lines, 1) == []


async def test_a_failing_producer_says_why_and_ends() -> None:
    async def produce(emit: Emit) -> None:
        emit(LogLine("one", "stdout"))
        raise OSError("the daemon went away")

    logs = LogStream("test", produce)
    assert await taken(logs.lines(), 3) == [
        LogLine("one", "stdout"),
        LogLine("reading the log failed: the daemon went away", "error"),
    ]


async def test_follow_a_file_until_its_writer_ends(tmp_path: Path) -> None:
    path = tmp_path / "out.log"
    path.write_text("old\nkept 1\nkept 2\n")
    with open(path, "a") as output:
        writer = subprocess.Popen(
            ["sh", "-c", "read line; printf 'last, no newline'"],
            stdin=subprocess.PIPE,
            stdout=output,
        )
    try:
        lines = follow(str(path), 2, writer.pid)
        assert await taken(lines, 2) == ["kept 1", "kept 2"]
        with open(path, "a") as log:
            log.write("live\n")
        assert await taken(lines, 1) == ["live"]
        assert writer.stdin is not None
        writer.stdin.write(b"go\n")
        writer.stdin.close()
        # its end ends the lines; what it wrote without a newline is the last line
        assert await taken(lines, 5) == ["last, no newline"]
    finally:
        writer.kill()
        writer.wait()


async def test_a_truncated_file_is_read_from_its_start(tmp_path: Path) -> None:
    path = tmp_path / "out.log"
    path.write_text("a long first line\n")
    fds = set(os.listdir("/proc/self/fd"))
    lines = follow(str(path), 1, None)
    assert await taken(lines, 1) == ["a long first line"]
    path.write_text("new\n")  # cut to nothing, then written again
    assert await taken(lines, 1) == ["new"]
    await lines.aclose()  # type: ignore[attr-defined]
    assert set(os.listdir("/proc/self/fd")) == fds
