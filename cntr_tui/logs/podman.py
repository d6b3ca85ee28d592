"""podman logs, as a child process: `podman logs --follow --tail N --timestamps ID`.

cntr-tui reaches podman through its CLI (attach/runtimes/podman.py), so its logs come
the same way. podman writes the container's stdout lines to its stdout and the stderr
lines to its stderr, each stamped: the two pipes are merged by those stamps. podman
ends when the container does; `close` terminates it (then kills it if it lingers).
"""

from __future__ import annotations

import asyncio
import shutil

from cntr_tui.attach.container import Container
from cntr_tui.logs.child import stop_child
from cntr_tui.logs.lines import StampedLines
from cntr_tui.logs.merge import Arrival, merge_by_time
from cntr_tui.logs.records import LogLine
from cntr_tui.logs.stream import ERROR_STREAM, Emit, LogStream, NoLogs

STREAMS = ("stdout", "stderr")


async def _pipe_lines(
    pipe: asyncio.StreamReader, index: int, stream: str, arrivals: asyncio.Queue[Arrival]
) -> None:
    lines = StampedLines(stream)
    while chunk := await pipe.read(1 << 16):
        for line in lines.feed(chunk):
            arrivals.put_nowait((index, _podmans_own(line)))
    for line in lines.rest():
        arrivals.put_nowait((index, _podmans_own(line)))
    arrivals.put_nowait((index, None))


def _podmans_own(line: LogLine) -> LogLine:
    """Every line of the container's is stamped: one without a stamp is podman's own
    message ("Error: no container with name or ID ...")."""
    return line if line.time is not None else LogLine(line.text, ERROR_STREAM)


def podman_logs(container: Container, tail: int, command: str = "podman") -> LogStream:
    executable = shutil.which(command)
    if executable is None:
        raise NoLogs(f"{command} is not installed: podman's logs cannot be read")
    argv = [executable, "logs", "--follow", "--tail", str(tail), "--timestamps", container.id]

    async def produce(emit: Emit) -> None:
        child = await asyncio.create_subprocess_exec(
            *argv,
            stdin=asyncio.subprocess.DEVNULL,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
            start_new_session=True,  # the terminal's ^C is the TUI's, not podman's
        )
        assert child.stdout is not None and child.stderr is not None
        arrivals: asyncio.Queue[Arrival] = asyncio.Queue()
        readers = [
            asyncio.create_task(_pipe_lines(pipe, index, stream, arrivals))
            for index, (pipe, stream) in enumerate(
                zip((child.stdout, child.stderr), STREAMS, strict=True)
            )
        ]
        try:
            await merge_by_time(arrivals, len(readers), emit)
        finally:
            await stop_child(child)
            for reader in readers:
                reader.cancel()
            await asyncio.wait(readers)

    return LogStream(f"podman logs {container.name}", produce)
