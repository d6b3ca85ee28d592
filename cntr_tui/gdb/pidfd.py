"""Waiting for a process to end on the event loop, through a pidfd (no child watcher)."""

from __future__ import annotations

import asyncio
import os
import subprocess


async def process_end(pid: int) -> bool:
    """Until process `pid` (a child or not) has ended; False if it was gone already."""
    try:
        pidfd = os.pidfd_open(pid)  # close-on-exec
    except ProcessLookupError:
        return False
    loop = asyncio.get_running_loop()
    try:
        ended = loop.create_future()
        loop.add_reader(pidfd, lambda: ended.done() or ended.set_result(None))
        try:
            await ended
        finally:
            loop.remove_reader(pidfd)
    finally:
        os.close(pidfd)
    return True


async def ends_within(pid: int, seconds: float) -> bool:
    """Whether process `pid` has ended (or is a zombie) or ends within `seconds`."""
    from cntr_tui.linux.proc_stat import alive

    if not alive(pid):
        return True
    try:
        await asyncio.wait_for(process_end(pid), seconds)
    except TimeoutError:
        return False
    return True


async def child_exit(process: subprocess.Popen[bytes]) -> int:
    """A child's exit status, once it has ended (reaped)."""
    if process.poll() is None:
        await process_end(process.pid)
    return process.wait()
