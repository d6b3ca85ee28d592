"""What the child-process sources (podman logs, journalctl) share: stopping the child,
and noticing the container's end when the child itself would not."""

from __future__ import annotations

import asyncio
import contextlib
import os

from cntr_tui.linux.pidfd import open_pidfd

STOP_SECONDS = 5.0


async def stop_child(child: asyncio.subprocess.Process) -> None:
    """Terminate `child` and reap it (SIGKILL after STOP_SECONDS)."""
    if child.returncode is None:
        with contextlib.suppress(ProcessLookupError):
            child.terminate()
        try:
            await asyncio.wait_for(child.wait(), STOP_SECONDS)
        except TimeoutError:
            with contextlib.suppress(ProcessLookupError):
                child.kill()
            await child.wait()


async def process_end(pid: int) -> None:
    """Return once process `pid` has ended (at once if there is none)."""
    pidfd = open_pidfd(pid)
    if pidfd is None:
        return
    loop = asyncio.get_running_loop()
    ended = asyncio.Event()
    loop.add_reader(pidfd, ended.set)
    try:
        await ended.wait()
    finally:
        loop.remove_reader(pidfd)
        os.close(pidfd)
