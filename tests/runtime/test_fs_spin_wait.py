"""The file server's loop polls for the next request only during a burst of requests
(fs/spin_wait.py): once the burst is over it sleeps in the kernel's read again, so a
session that sends nothing costs no CPU. Checked on a real session: a walk of a host
tree through the merged root (thousands of requests), then the server's threads
sampled while the walker waits."""

from __future__ import annotations

import contextlib
import time

from cntr_tui.attach.session import AttachOptions, AttachSession
from cntr_tui.linux.proc_stat import state
from cntr_tui.linux.procfs import thread_ids
from tests.support.fs_session import go_on, json_line, python3, ready_line, spawned

WALK = r"""
import json, os, sys
def walk():
    count = 0
    for folder, _, files in os.walk("/usr/include"):
        for name in files:
            os.stat(os.path.join(folder, name))
            count += 1
    return count
print(json.dumps({"walked": walk()}), flush=True)
sys.stdin.readline()
print(json.dumps({"walked": walk()}), flush=True)
"""
SAMPLES, INTERVAL = 20, 0.05


def thread_states(pid: int) -> list[str]:
    """The state letter of each thread of `pid`."""
    states = []
    for tid in thread_ids(pid):
        with contextlib.suppress(OSError):  # a thread that just ended
            states.append(state(tid))
    return states


def asleep_samples(pid: int) -> int:
    """Of SAMPLES looks INTERVAL apart, in how many no thread of `pid` was running."""
    asleep = 0
    for _ in range(SAMPLES):
        asleep += "R" not in thread_states(pid)
        time.sleep(INTERVAL)  # sampling over time, not waiting for a state
    return asleep


def test_after_a_burst_the_file_server_sleeps_in_the_kernel(start_container) -> None:
    container = start_container("docker")
    with (
        AttachSession(container.pid, AttachOptions(fs="fuse")) as session,
        spawned(session, [python3(), "-c", WALK]) as walker,
    ):
        first = json_line(walker)
        assert isinstance(first, dict) and first["walked"] > 1000
        server = ready_line(container.pid)["server"]
        assert isinstance(server, int)
        # the watchdog's probe (one request a second, no burst) may be caught running
        assert asleep_samples(server) >= SAMPLES - 2
        assert go_on(walker) == first  # the server still answers after sleeping
