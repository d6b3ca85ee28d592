"""A host mount the session walked into stays the host's to unmount: in FUSE mode the
file server holds no descriptor on it between requests (`fs/directory_fds`), so a plain
`umount` on the host succeeds while the session lives, and the session then sees the
folder under it (a name only it has) or ENOENT (a file only the unmounted tmpfs had)."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from cntr_tui.attach.session import AttachOptions, AttachSession
from tests.support.fs_session import go_on, json_line, spawned

# Run inside the session: walk into the mount (listings, stats and a symlink two
# folders down), wait while the host unmounts it, then look again. The walk opens no
# file there: one the session has open holds the mount as a host process's would, and
# one it has just closed does too until the kernel's RELEASE, which FUSE sends
# asynchronously, reaches the server.
SCRIPT = r"""
import errno, json, os, sys
mnt = sys.argv[1]
def outcome(action):
    try:
        return action()
    except OSError as error:
        return errno.errorcode[error.errno]
walked = {
    "list": sorted(os.listdir(mnt)),
    "inner": sorted(os.listdir(f"{mnt}/d1/d2")),
    "link": os.readlink(f"{mnt}/d1/d2/link"),
    "sizes": [os.lstat(f"{mnt}/d1/d2/{name}").st_size for name in ("inner", "link")],
}
print(json.dumps(walked), flush=True)
sys.stdin.readline()  # the host unmounts the tmpfs meanwhile
after = {
    "inner": outcome(lambda: open(f"{mnt}/d1/d2/inner").read()),
    "created": outcome(lambda: open(f"{mnt}/d1/d2/new", "x").close()),
    "underlying": os.path.exists(f"{mnt}/underlying-marker"),
}
print(json.dumps(after), flush=True)
"""


def python3() -> str:
    found = shutil.which("python3", path="/usr/bin:/bin")
    assert found, "the host's python3 runs inside through the merged root"
    return found


def mounted(path: Path) -> bool:
    return subprocess.run(["mountpoint", "-q", str(path)]).returncode == 0


@pytest.mark.parametrize("fs", ["fuse", "mount"])
def test_the_host_can_unmount_what_the_session_walked_into(
    start_container, host_dir: Path, fs: str
) -> None:
    container = start_container("docker")
    mnt = host_dir / "mnt"
    mnt.mkdir()
    (mnt / "underlying-marker").write_text("on the host's disk, under the mount\n")
    subprocess.run(["mount", "-t", "tmpfs", "-o", "size=1m", "cntr-test", str(mnt)], check=True)
    try:
        (mnt / "d1" / "d2").mkdir(parents=True)
        (mnt / "d1" / "d2" / "inner").write_text("on the tmpfs")
        (mnt / "d1" / "d2" / "link").symlink_to("inner")
        argv = [python3(), "-c", SCRIPT, str(mnt)]
        with (
            AttachSession(container.pid, AttachOptions(fs=fs)) as session,
            spawned(session, argv) as proc,
        ):
            walked = json_line(proc)
            umount = subprocess.run(["umount", str(mnt)], capture_output=True, text=True)
            after = go_on(proc)
            assert proc.wait(30) == 0
    finally:
        if mounted(mnt):
            subprocess.run(["umount", "-l", str(mnt)], capture_output=True)
    assert walked == {"list": ["d1"], "inner": ["inner", "link"], "link": "inner", "sizes": [12, 5]}
    assert umount.returncode == 0, f"the host's umount failed: {umount.stderr.strip()}"
    assert not mounted(mnt)
    assert sorted(p.name for p in mnt.iterdir()) == ["underlying-marker"]
    if fs == "fuse":
        # the tmpfs's file is gone with it (ENOENT, not a stale view or EIO), nothing
        # is created in the unmounted tree, and the folder under it is the host's again
        assert after == {"inner": "ENOENT", "created": "ENOENT", "underlying": True}
    else:
        # mount mode: the session's tree is a copy of the host's mounts made when it
        # began (open_tree), which a host umount does not reach: it keeps the tmpfs
        assert after == {"inner": "on the tmpfs", "created": None, "underlying": False}
