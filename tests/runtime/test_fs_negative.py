"""Negative entries: a missing name is answered as one the kernel may cache, and still
every name created through the merged root, or by the container, is seen at once."""

from __future__ import annotations

import contextlib
import json
import shutil
import subprocess
import time
import uuid
from pathlib import Path

import pyfuse3
import pytest
import trio

from cntr_tui.attach.session import AttachSession
from cntr_tui.fs.fastloop import COUNTS_ENV
from cntr_tui.fs.inode_paths import ROOT_INODE
from cntr_tui.fs.merged import MergedOperations
from tests.support.fs_session import ended

# Run inside the session: probe a missing name twice, create it through the merged
# root, look again; the same for a name the container's side creates meanwhile.
SCRIPT_BODY = r"""
import json, os, sys
host, container = sys.argv[1:3]
seen = {"host-before": os.path.exists(host), "host-again": os.path.exists(host)}
open(host, "w").close()
seen["host-created-inside"] = os.path.exists(host)
seen["container-before"] = os.path.exists(container)
print("probed", flush=True)
sys.stdin.readline()  # the test creates `container` from the host meanwhile
seen["container-created-outside"] = os.path.exists(container)
for _ in range(PROBES):
    os.path.exists(host + ".never")
print(json.dumps(seen), flush=True)
"""
PROBES = 1000
SCRIPT = f"PROBES = {PROBES}\n" + SCRIPT_BODY


def test_a_missing_name_is_a_cacheable_negative_entry() -> None:
    root = MergedOperations(timeout=60.0)
    missing = f"cntr-test-missing-{uuid.uuid4().hex}".encode()

    async def look_up() -> pyfuse3.EntryAttributes:
        return await root.lookup(ROOT_INODE, missing, None)  # type: ignore[arg-type]

    entry = trio.run(look_up)
    assert entry.st_ino == 0  # "no such name", with a timeout the kernel honours
    assert entry.entry_timeout == root.negative_timeout == 60.0
    assert len(root.inodes.nodes) == 1  # nothing registered for it
    assert MergedOperations(timeout=60.0, negative_timeout=5.0).negative_timeout == 5.0


def lookups_counted(path: Path, since: float) -> int:
    """LOOKUP requests the server counted (CNTR_TUI_FS_COUNTS), once it has written
    its counts after `since` (it does so on a request, and the watchdog probes every
    second)."""
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        with contextlib.suppress(FileNotFoundError):
            if path.stat().st_mtime > since:
                return int(json.loads(path.read_text()).get("LOOKUP", 0))
        time.sleep(0.05)
    raise AssertionError("the file server wrote no request counts")


def test_names_created_after_a_miss_are_seen_at_once(
    start_container, host_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    counts = tmp_path / "counts.json"
    monkeypatch.setenv(COUNTS_ENV, str(counts))  # the new container's server counts
    container = start_container("docker")
    python = shutil.which("python3", path="/usr/bin:/bin")
    assert python, "the host's python3 runs inside through the merged root"
    name = f"cntr-test-new-{uuid.uuid4().hex[:8]}"
    in_container = f"/proc/{container.pid}/root/tmp/{name}"
    with AttachSession(container.pid) as session:
        proc = session.spawn(
            [python, "-c", SCRIPT, str(host_dir / "made-inside"), f"/var/lib/cntr/tmp/{name}"],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
        )
        assert proc.stdin is not None and proc.stdout is not None
        try:
            with ended(proc):
                assert proc.stdout.readline() == b"probed\n"
                Path(in_container).write_text("made by the container's side\n")
                proc.stdin.write(b"go\n")
                proc.stdin.flush()
                seen = json.loads(proc.stdout.readline())
                probed = time.time()
                assert proc.wait(30) == 0
                lookups = lookups_counted(counts, probed)
        finally:
            Path(in_container).unlink(missing_ok=True)
    assert seen == {
        "host-before": False,
        "host-again": False,
        "host-created-inside": True,  # the kernel replaced its negative entry
        "container-before": False,
        "container-created-outside": True,  # /var/lib/cntr is the container's own mount
    }
    assert (host_dir / "made-inside").exists()
    # the 1,000 probes of one missing name came from the kernel's negative entry: the
    # whole session (Python's start through the merged root included) sent fewer LOOKUPs
    assert lookups < PROBES, lookups
