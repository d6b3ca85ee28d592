"""Waiting on a GdbSession in the gdb tests."""

from __future__ import annotations

import asyncio

from cntr_tui.gdb.events import SessionEnded
from cntr_tui.gdb.session import GdbSession


async def session_end(session: GdbSession, timeout: float = 30.0) -> SessionEnded:
    """The session's end (its events always close with one); TimeoutError if it does not
    come in time."""
    async with asyncio.timeout(timeout):
        async for event in session.events():
            if isinstance(event, SessionEnded):
                return event
    raise AssertionError("the session's events stopped without SessionEnded")
