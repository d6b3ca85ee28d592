"""Running the cntr-tui command line as a user would: its argv, environments, reading
its terminal."""

from __future__ import annotations

import os
import select
import sys
import time

CNTR_TUI = [sys.executable, "-m", "cntr_tui.cli"]


NAMESPACE_WARNING = "different PID namespaces"


# a plain namespaced process: an empty /dev, and an environment naming a shell the host
# (whose tools gdb sees at /) does not have
BARE_ENVIRONMENT = {"PATH": "/bin", "SHELL": "/no/such/shell"}


def read_until(fd: int, marker: bytes, timeout: float = 30.0) -> bytes:
    """Read a PTY until `marker` shows up (or the deadline passes)."""
    data = b""
    deadline = time.monotonic() + timeout
    while marker not in data and time.monotonic() < deadline:
        ready, _, _ = select.select([fd], [], [], max(0.0, deadline - time.monotonic()))
        if not ready:
            break
        try:
            chunk = os.read(fd, 65536)
        except OSError:
            break
        if not chunk:
            break
        data += chunk
    return data
