"""A plain namespaced process's output, when it goes to regular files.

Its stdout and stderr (/proc/PID/fd/1 and 2) are followed only when they are regular
files: a pipe or a terminal has no copy to read, so reading one would take the
program's output away from whoever reads it.
"""

from __future__ import annotations

import asyncio
import os
import stat

from cntr_tui.logs.follow import follow
from cntr_tui.logs.records import LogLine
from cntr_tui.logs.stream import Emit, LogStream, NoLogs

OUTPUTS = ((1, "stdout"), (2, "stderr"))
BOTH = "stdout+stderr"  # one file holds both (`>log 2>&1`): which wrote a line is lost


def output_files(pid: int, what: str) -> list[tuple[str, str]]:
    """(path, stream) to follow for `pid`'s stdout and stderr; NoLogs when neither is a
    regular file. One entry when both are the same file."""
    found: list[tuple[str, str, tuple[int, int]]] = []
    refused: list[str] = []
    for number, stream in OUTPUTS:
        path = f"/proc/{pid}/fd/{number}"
        try:
            info = os.stat(path)
            target = os.readlink(path)
        except FileNotFoundError:
            refused.append(f"no {stream}")
            continue
        except OSError as error:
            raise NoLogs(f"cannot look at {what}'s {stream}: {error.strerror}") from None
        if not stat.S_ISREG(info.st_mode):
            refused.append(f"{stream} is {target}")
            continue
        key = (info.st_dev, info.st_ino)
        if found and found[0][2] == key:
            found[0] = (found[0][0], BOTH, key)
        else:
            found.append((path, stream, key))
    if not found:
        raise NoLogs(
            f"{what} keeps no log: its {', '.join(refused)}, not a file "
            "(reading a pipe or terminal would take the program's output)"
        )
    return [(path, stream) for path, stream, _ in found]


def process_logs(pid: int, tail: int, what: str) -> LogStream:
    """`what` names the process in messages ("process 1234 (threads)")."""
    files = output_files(pid, what)

    async def produce(emit: Emit) -> None:
        async def one(path: str, stream: str) -> None:
            async for text in follow(path, tail, pid):
                emit(LogLine(text, stream))

        async with asyncio.TaskGroup() as group:
            for path, stream in files:
                group.create_task(one(path, stream))

    source = " and ".join(os.readlink(path) for path, _ in files)
    return LogStream(f"{what}: {source}", produce)
