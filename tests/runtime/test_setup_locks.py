"""scripts/setup.sh waits for apt's and dpkg's locks (unattended-upgrades on a fresh
machine) instead of failing, and says in one `setup:` line what it waits for.

The real lock files are held by a process of the test, the way apt holds them
(fcntl write locks); the script's apt_get runs real apt-get commands that need them.
"""

from __future__ import annotations

import fcntl
import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
HOLD_LOCKS = """
import fcntl, os, sys
for path in sys.argv[1:]:
    fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o640)
    fcntl.lockf(fd, fcntl.LOCK_EX)
print("held", flush=True)
sys.stdin.read()
"""

pytestmark = pytest.mark.skipif(shutil.which("apt-get") is None, reason="not a Debian host")


def lock_is_free(path: str) -> bool:
    fd = os.open(path, os.O_RDWR | os.O_CLOEXEC)
    try:
        fcntl.lockf(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        return False
    finally:
        os.close(fd)  # closing drops the lock again
    return True


@pytest.fixture
def held_lock(request: pytest.FixtureRequest) -> Iterator[subprocess.Popen[str]]:
    path = request.param
    if not lock_is_free(path):
        pytest.skip(f"{path} is held by apt right now")
    holder = subprocess.Popen(
        [sys.executable, "-c", HOLD_LOCKS, path],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout is not None and holder.stdout.readline() == "held\n"
        yield holder
    finally:
        holder.kill()
        holder.wait()


@pytest.mark.parametrize(
    ("held_lock", "apt_arguments"),
    [
        # update: apt-get itself fails at once on a held lists lock
        ("/var/lib/apt/lists/lock", "update -q"),
        # install: a package setup.sh installs, already installed and marked manual
        ("/var/lib/dpkg/lock-frontend", "install -y -q --no-install-recommends tmux"),
    ],
    indirect=["held_lock"],
)
def test_apt_waits_for_a_held_lock_and_says_so(
    held_lock: subprocess.Popen[str], apt_arguments: str
) -> None:
    command = f"source scripts/apt_locks.sh && apt_get {apt_arguments} >/dev/null"
    apt = subprocess.Popen(["bash", "-c", command], cwd=REPO, stderr=subprocess.PIPE, text=True)
    try:
        assert apt.stderr is not None
        first_line = apt.stderr.readline()
        assert first_line.startswith("setup: waiting up to 600s for /var/lib/")
        assert f"(PID {held_lock.pid})" in first_line
        with pytest.raises(subprocess.TimeoutExpired):
            apt.wait(timeout=2)  # still waiting while the lock is held, not failed
        held_lock.kill()
        held_lock.wait()
        rest = apt.stderr.read()
        assert apt.wait(timeout=180) == 0, rest
        assert "Could not get lock" not in rest
    finally:
        apt.kill()
        apt.wait()
