"""The watchdog: a dead or stuck FUSE server gives callers errors, never a hang."""

from __future__ import annotations

import os
import signal
import subprocess
import time
from pathlib import Path

import pytest

from cntr_tui.attach.merged_root import RUN_DIR
from cntr_tui.attach.session import AttachSession
from tests.support.attach import assert_nothing_left, wait_until

# The reader runs the container's busybox (not on the FUSE root): a host binary paged in
# from a dead server would die of SIGBUS instead of reporting the error.
BUSYBOX = "/var/lib/cntr/bin/busybox"
READER = (
    "echo started; "
    "while true; do "
    f"{BUSYBOX} ls /usr/share/doc > /dev/null || exit 7; "
    f"{BUSYBOX} cat /usr/bin/gdb > /dev/null || exit 8; "
    "done"
)
DEADLINE = 12.0  # probe every 1 s, 3 s answer deadline, plus slack for a loaded CI machine


def alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/status") as file:
            return "State:\tZ" not in file.read()
    except FileNotFoundError:
        return False


@pytest.mark.parametrize("stop_signal", [signal.SIGSTOP, signal.SIGKILL])
def test_reader_gets_an_error_when_the_server_stops(start_container, stop_signal):
    container = start_container("docker")
    session = AttachSession(container.pid)
    try:
        assert session.root is not None
        reader = session.spawn(
            [BUSYBOX, "sh", "-c", READER], stdout=subprocess.PIPE, stderr=subprocess.PIPE
        )
        assert reader.stdout is not None and reader.stdout.readline() == b"started\n"
        stopped_at = time.monotonic()
        os.kill(session.root.server, stop_signal)
        status = reader.wait(DEADLINE)  # raises TimeoutExpired on a hang
        elapsed = time.monotonic() - stopped_at
        assert status in (7, 8), reader.stderr.read() if reader.stderr else b""
        assert elapsed < DEADLINE
        # the stuck server is killed by the watchdog, its holder follows
        assert wait_until(lambda: not alive(session.root.server))
    finally:
        session.close()
    assert_nothing_left(container.pid)
    # the server's log holds the watchdog's line about the abort: the test's, not ours to keep
    for log in Path(RUN_DIR).glob(f"{container.pid}-*-fuse.log"):
        assert stop_signal == signal.SIGKILL or "aborting" in log.read_text()
        log.unlink()
