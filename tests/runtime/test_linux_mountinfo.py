"""cntr_tui.linux.mountinfo on a real mount table: a bind mount whose path holds the
characters the kernel escapes (space, tab, newline, backslash) and some it does not
(carriage return, vertical tab, a no-break space), made in a private mount namespace."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from cntr_tui.fs.mounts import classify
from cntr_tui.linux.mountinfo import parse_line, read_mountinfo, unescape

ODD_NAME = "a b\tc\nd\\e\rf\vg\u00a0h"
# Mounts in a private mount namespace, says "ready", waits for its stdin to close.
MOUNTER = """
import subprocess, sys
subprocess.run(["mount", "--bind", sys.argv[1], sys.argv[2]], check=True)
print("ready", flush=True)
sys.stdin.read()
"""


@contextmanager
def bind_mounted(source: Path, target: Path) -> Iterator[int]:
    """The PID of a process in a private mount namespace where `source` is bound on
    `target`; the namespace (and the mount) ends with it."""
    command = ["unshare", "--mount", "--propagation", "private", sys.executable, "-c", MOUNTER]
    mounter = subprocess.Popen(
        [*command, str(source), str(target)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert mounter.stdout is not None and mounter.stdout.readline() == "ready\n"
        yield mounter.pid
    finally:
        assert mounter.stdin is not None
        mounter.stdin.close()
        mounter.wait(30)


def test_bind_mount_with_escaped_characters(tmp_path: Path) -> None:
    source = tmp_path / f"src {ODD_NAME}"
    target = tmp_path / f"dst {ODD_NAME}"
    source.mkdir()
    target.mkdir()
    (source / "marker").write_text("bound\n")
    with bind_mounted(source, target) as pid:
        with open(f"/proc/{pid}/mountinfo", "rb") as file:
            raw = file.read()
        assert b"\\040" in raw and b"\\011" in raw and b"\\012" in raw and b"\\134" in raw
        table = read_mountinfo(pid)
        by_point = {mount.mount_point: mount for mount in table}
        assert str(target) in by_point, "the odd mount point decodes to the real path"
        mount = by_point[str(target)]
        assert mount.root.endswith(f"/src {ODD_NAME}")
        # the decoded path is one this process can open through the namespace's root
        seen = os.stat(f"/proc/{pid}/root{mount.mount_point}/marker")
        assert seen.st_ino == os.stat(source / "marker").st_ino
        assert f"{os.major(seen.st_dev)}:{os.minor(seen.st_dev)}" == mount.device
        # every other line of the real table parses too, and nothing is left undecoded
        assert len(table) == raw.count(b"\n")
        assert not any("\\0" in m.mount_point or "\\1" in m.mount_point for m in table)
        assert classify(table, container_root="/")[-1].mount_point == table[-1].mount_point


def test_unescape_decodes_every_octal_escape() -> None:
    assert unescape("\\040\\011\\012\\134\\043") == " \t\n\\#"
    # a byte that is not UTF-8 survives as os.fsdecode gives it
    assert os.fsencode(unescape("x\\377y")) == b"x\xffy"
    assert unescape("plain") == "plain"


def test_own_mount_table_matches_os_view() -> None:
    """Each mount point this process's table names exists, and / is there."""
    table = read_mountinfo("self")
    assert any(mount.mount_point == "/" for mount in table)
    with open("/proc/self/mountinfo", "rb") as file:
        first = file.readline()
    assert parse_line(first) == table[0]
    for mount in table:
        assert os.path.lexists(mount.mount_point) or mount.fstype in ("nsfs", "autofs")
