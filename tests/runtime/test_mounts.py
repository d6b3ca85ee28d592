"""mountinfo parsing and provenance: a recorded table, then a real session's."""

from __future__ import annotations

from cntr_tui.attach.session import AttachSession
from cntr_tui.fs.mounts import classify
from cntr_tui.linux.mountinfo import parse_line, parse_mountinfo

# Recorded from a docker session's holder (vfs storage driver), trimmed.
RECORDED = r"""
380 376 254:0 /var/lib/docker/vfs/dir/46e9 /var/lib/cntr rw,relatime - ext4 /dev/vda rw
381 380 0:98 / /var/lib/cntr/proc rw,nosuid,nodev,noexec,relatime - proc proc rw
382 380 0:99 / /var/lib/cntr/dev rw,nosuid - tmpfs tmpfs rw,size=65536k,mode=755
383 380 254:0 /var/lib/docker/containers/3185/hosts /var/lib/cntr/etc/hosts rw - ext4 /dev/vda rw
384 380 8:16 /srv/data /var/lib/cntr/data rw,relatime - ext4 /dev/sdb rw
376 300 0:52 / / rw,relatime - fuse.cntr-tui cntr-tui rw,user_id=0,group_id=0
401 376 254:0 /var/lib/docker/vfs/dir/46e9/etc/passwd /etc/passwd rw - ext4 /dev/vda rw
402 376 254:0 /var/lib/docker/containers/3185/hosts /etc/hosts rw - ext4 /dev/vda rw
403 376 0:98 / /proc rw,nosuid,nodev,noexec,relatime - proc proc rw
404 376 0:60 / /mnt/my\040disk rw - ext4 /dev/sdc rw
"""


def test_parse_line_fields():
    mount = parse_line(
        "36 35 98:0 /mnt1 /mnt2 rw,noatime master:1 - ext3 /dev/root rw,errors=continue"
    )
    assert (mount.mount_id, mount.parent_id, mount.device) == (36, 35, "98:0")
    assert (mount.root, mount.mount_point, mount.fstype) == ("/mnt1", "/mnt2", "ext3")
    assert (mount.source, mount.super_options) == ("/dev/root", "rw,errors=continue")
    assert mount.minor == 0 and not mount.is_fuse


def test_recorded_table_provenance():
    table = classify(parse_mountinfo(RECORDED))
    kinds = {mount.mount_point: mount.provenance for mount in table}
    assert kinds == {
        "/var/lib/cntr": "container",
        "/var/lib/cntr/proc": "virtual",
        "/var/lib/cntr/dev": "virtual",
        "/var/lib/cntr/etc/hosts": "volume",  # docker's file, from outside the rootfs
        "/var/lib/cntr/data": "volume",
        "/": "host",
        "/etc/passwd": "container",  # bound from the container's rootfs
        "/etc/hosts": "volume",
        "/proc": "virtual",
        "/mnt/my disk": "host",
    }
    fuse_root = next(mount for mount in table if mount.mount_point == "/")
    assert fuse_root.is_fuse and fuse_root.minor == 52


def test_session_mount_table(start_container):
    container = start_container("docker")
    for fs in ("fuse", "mount"):
        from cntr_tui.attach.session import AttachOptions

        with AttachSession(container.pid, AttachOptions(fs=fs)) as session:
            table = {mount.mount_point: mount for mount in session.mounts()}
        assert table["/var/lib/cntr"].provenance == "container"
        assert table["/"].provenance == "host"
        assert table["/"].is_fuse == (fs == "fuse")
        assert table["/proc"].provenance == "virtual"
        assert table["/etc/hosts"].provenance == "volume"
        assert table["/etc/hostname"].provenance == "volume"
