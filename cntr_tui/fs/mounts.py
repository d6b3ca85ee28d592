"""Mount tables (`/proc/PID/mountinfo`) parsed into `Mount` records with provenance.

Provenance says where the files under a mount point come from, as a session sees them:
- "host": the fat file system at `/` (the FUSE merge, or the host's own mounts in
  `--fs mount` mode);
- "container": the container's own root file system (at `/var/lib/cntr`, and the
  container files bound over the host's, such as `/etc/hosts`);
- "volume": a directory or device the runtime mounted into the container (a volume,
  a bind of a host path, Docker's `/etc/hosts` file);
- "virtual": kernel file systems with no files on disk (proc, sysfs, devpts, tmpfs...).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

CONTAINER_ROOT = "/var/lib/cntr"
FUSE_FSTYPE_PREFIX = "fuse"
VIRTUAL_FSTYPES = frozenset(
    {
        "proc",
        "sysfs",
        "devpts",
        "devtmpfs",
        "tmpfs",
        "mqueue",
        "cgroup",
        "cgroup2",
        "securityfs",
        "debugfs",
        "tracefs",
        "pstore",
        "bpf",
        "configfs",
        "fusectl",
        "hugetlbfs",
        "binfmt_misc",
        "autofs",
        "efivarfs",
        "nsfs",
        "ramfs",
        "rpc_pipefs",
        "shm",
    }
)
PROVENANCES = ("host", "container", "volume", "virtual")

_OCTAL_ESCAPE = re.compile(r"\\([0-7]{3})")


@dataclass(frozen=True)
class Mount:
    """One line of a mountinfo table, with where its files come from."""

    mount_id: int
    parent_id: int
    device: str  # "major:minor"
    root: str  # the path inside the source file system that is mounted here
    mount_point: str
    fstype: str
    source: str
    options: str
    provenance: str = "host"
    super_options: str = ""

    @property
    def is_fuse(self) -> bool:
        return self.fstype == FUSE_FSTYPE_PREFIX or self.fstype.startswith("fuse.")

    @property
    def minor(self) -> int:
        return int(self.device.split(":")[1])


def unescape(field: str) -> str:
    return _OCTAL_ESCAPE.sub(lambda match: chr(int(match.group(1), 8)), field)


def parse_line(line: str) -> Mount:
    head, _, tail = line.partition(" - ")
    fields = head.split()
    tail_fields = tail.split()
    if len(fields) < 6 or len(tail_fields) < 2:
        raise ValueError(f"not a mountinfo line: {line!r}")
    return Mount(
        mount_id=int(fields[0]),
        parent_id=int(fields[1]),
        device=fields[2],
        root=unescape(fields[3]),
        mount_point=unescape(fields[4]),
        options=fields[5],
        fstype=tail_fields[0],
        source=unescape(tail_fields[1]),
        super_options=tail_fields[2] if len(tail_fields) > 2 else "",
    )


def parse_mountinfo(text: str) -> list[Mount]:
    return [parse_line(line) for line in text.splitlines() if line.strip()]


def read_mountinfo(pid: int | str = "self") -> list[Mount]:
    with open(f"/proc/{pid}/mountinfo", encoding="utf-8", errors="surrogateescape") as file:
        return parse_mountinfo(file.read())


def is_under(path: str, directory: str) -> bool:
    return path == directory or path.startswith(directory.rstrip("/") + "/")


def classify(mounts: Iterable[Mount], container_root: str = CONTAINER_ROOT) -> list[Mount]:
    """Give each mount of a session's table its provenance.

    The container's root is the mount exactly at `container_root`; below it, virtual
    file systems are "virtual", mounts of the same file system and inside the same
    directory tree are "container", anything else (a host directory or file bound in,
    another device) is "volume". A bind elsewhere (over `/proc`, `/etc/hosts`) takes the
    provenance of the container mount it was bound from, matched by device and root.
    """
    mounts = list(mounts)
    result: dict[int, Mount] = {}
    by_source: dict[tuple[str, str], str] = {}
    container_mount = next((m for m in mounts if m.mount_point == container_root), None)
    for mount in mounts:
        if not is_under(mount.mount_point, container_root):
            continue
        if mount.fstype in VIRTUAL_FSTYPES:
            provenance = "virtual"
        elif container_mount is not None and (
            mount is container_mount
            or (
                mount.device == container_mount.device
                and is_under(mount.root, container_mount.root)
            )
        ):
            provenance = "container"
        else:
            provenance = "volume"
        result[mount.mount_id] = with_provenance(mount, provenance)
        by_source[(mount.device, mount.root)] = provenance
    for mount in mounts:
        if mount.mount_id in result:
            continue
        if mount.fstype in VIRTUAL_FSTYPES:
            provenance = "virtual"
        else:
            provenance = source_provenance(mount, by_source) or "host"
        result[mount.mount_id] = with_provenance(mount, provenance)
    return [result[mount.mount_id] for mount in mounts]


def source_provenance(mount: Mount, by_source: dict[tuple[str, str], str]) -> str | None:
    """The provenance of the closest container mount a bind was made from, if any."""
    best: tuple[int, str] | None = None
    for (device, root), provenance in by_source.items():
        closer = best is None or len(root) > best[0]
        if device == mount.device and is_under(mount.root, root) and closer:
            best = (len(root), provenance)
    return best[1] if best else None


def with_provenance(mount: Mount, provenance: str) -> Mount:
    return Mount(
        mount_id=mount.mount_id,
        parent_id=mount.parent_id,
        device=mount.device,
        root=mount.root,
        mount_point=mount.mount_point,
        fstype=mount.fstype,
        source=mount.source,
        options=mount.options,
        provenance=provenance,
        super_options=mount.super_options,
    )
