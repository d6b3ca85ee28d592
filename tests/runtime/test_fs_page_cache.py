"""The merged file's page cache (FUSE mode): kept from one open to the next while the
file is unchanged, dropped when the host changed it meanwhile, so a file read once
through the merged root and then rewritten or grown on the host reads as the host's
at the next open, long before the kernel's attribute timeout (60 s)."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from cntr_tui.attach.session import AttachOptions, AttachSession
from tests.runtime.test_fs_passthrough import data_paths  # noqa: F401 (a fixture)
from tests.support.fs_session import go_on, json_line, spawned

# each test runs with FUSE passthrough and with the writeback cache (`data_paths`)
pytestmark = pytest.mark.usefixtures("data_paths")

# Run inside the session: read both files (their pages and sizes are then cached),
# wait while the host changes them, read them again through fresh opens.
SCRIPT = r"""
import json, os, sys
names = sys.argv[1:]
def contents():  # open and read only, as a C program's read loop (no fstat)
    out = {}
    for name in names:
        fd = os.open(name, os.O_RDONLY)
        chunks = []
        while chunk := os.read(fd, 1 << 20):
            chunks.append(chunk)
        os.close(fd)
        data = b"".join(chunks)
        out[name] = [len(data), data[:1].decode(), data[-1:].decode()]
    return out
print(json.dumps(contents()), flush=True)
sys.stdin.readline()  # the host rewrites one in place and grows the other meanwhile
print(json.dumps(contents()), flush=True)
"""


def python3() -> str:
    found = shutil.which("python3", path="/usr/bin:/bin")
    assert found, "the host's python3 runs inside through the merged root"
    return found


def test_a_change_from_the_host_is_read_at_the_next_open(start_container, host_dir: Path) -> None:
    container = start_container("docker")
    rewritten, grown = host_dir / "rewritten", host_dir / "grown"
    rewritten.write_bytes(b"a" * 65536)
    grown.write_bytes(b"g" * 4096)
    names = [str(rewritten), str(grown)]
    argv = [python3(), "-c", SCRIPT, *names]
    with (
        AttachSession(container.pid, AttachOptions(fs="fuse")) as session,
        spawned(session, argv) as proc,
    ):
        first = json_line(proc)
        with rewritten.open("r+b") as file:  # same size, same inode: only mtime tells
            file.write(b"b" * 65536)
        with grown.open("ab") as file:
            file.write(b"h" * 4096)
        second = go_on(proc)
        assert proc.wait(30) == 0
    assert first == {names[0]: [65536, "a", "a"], names[1]: [4096, "g", "g"]}
    assert second == {names[0]: [65536, "b", "b"], names[1]: [8192, "g", "h"]}
