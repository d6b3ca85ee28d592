"""The merged root's bytes, writes, sharing between sessions, and teardown."""

from __future__ import annotations

import hashlib
import os
import subprocess
import time
from pathlib import Path

import pytest

from cntr_tui.attach.session import AttachSession
from tests.support.attach import assert_nothing_left, mount_lines, server_processes

SMALL_FILES_DIR = "/usr/include/linux"  # hundreds of small host files (linux-libc-dev)


def host_digests(paths: list[str]) -> dict[str, str]:
    digests = {}
    for path in paths:
        with open(path, "rb") as file:
            digests[path] = hashlib.sha256(file.read()).hexdigest()
    return digests


def inside_digests(session: AttachSession, paths: list[str]) -> dict[str, str]:
    proc = session.spawn(
        ["xargs", "-0", "sha256sum"],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    out, err = proc.communicate("\0".join(paths).encode(), timeout=60)
    assert proc.returncode == 0, err
    digests = {}
    for line in out.decode().splitlines():
        digest, _, path = line.partition("  ")
        digests[path] = digest
    return digests


@pytest.fixture
def large_host_file(tmp_path_factory: pytest.TempPathFactory):
    # /var/tmp: a disk-backed host directory the FUSE root serves as it is
    path = Path("/var/tmp") / f"cntr-test-large-{os.getpid()}-{time.monotonic_ns()}"
    with open(path, "wb") as file:
        for _ in range(48):
            file.write(os.urandom(1 << 20))
    yield str(path)
    path.unlink(missing_ok=True)


def test_reads_match_host_bytes_and_writes_land_in_the_container(start_container, large_host_file):
    container = start_container("docker")
    small = sorted(
        str(path)
        for path in Path(SMALL_FILES_DIR).rglob("*")
        if path.is_file() and not path.is_symlink()
    )[:300]
    assert len(small) > 50
    wanted = [large_host_file, *small]
    with AttachSession(container.pid) as session:
        assert inside_digests(session, wanted) == host_digests(wanted)
        write = session.spawn(
            ["sh", "-c", "echo written-inside > /var/lib/cntr/tmp/cntr-test-write"]
        )
        assert write.wait(30) == 0
    with open(f"/proc/{container.pid}/root/tmp/cntr-test-write") as file:
        assert file.read() == "written-inside\n"
    assert_nothing_left(container.pid)


def test_sessions_share_one_merged_root(start_container):
    container = start_container("docker")
    started = time.perf_counter()
    first = AttachSession(container.pid)
    cold = time.perf_counter() - started
    try:
        assert first.root is not None
        started = time.perf_counter()
        second = AttachSession(container.pid)
        warm = time.perf_counter() - started
        assert second.root == first.root  # same server, holder and FUSE connection
        assert warm < cold
        assert second.spawn(["test", "-x", "/usr/bin/gdb"]).wait(30) == 0
        first.close()
        # the second session still holds it: server alive, root served
        assert server_processes(container.pid)
        assert (
            second.spawn(["cat", "/var/lib/cntr/etc/os-release"], stdout=subprocess.DEVNULL).wait(
                30
            )
            == 0
        )
        second.close()  # the last one out tears down (close waits for the server)
        assert not [pid for pid in server_processes(container.pid)]
        assert mount_lines("self") == []
    finally:
        first.close()
    assert_nothing_left(container.pid)
