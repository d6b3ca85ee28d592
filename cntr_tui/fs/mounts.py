"""Mount tables (`cntr_tui.linux.mountinfo`) classified into `Mount` records with provenance.

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

from collections.abc import Iterable
from dataclasses import dataclass, fields

from cntr_tui.linux.mountinfo import MountEntry, is_under

CONTAINER_ROOT = "/var/lib/cntr"
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


@dataclass(frozen=True)
class Mount(MountEntry):
    """A mount of a session's table, with where its files come from."""

    provenance: str = "host"


ENTRY_FIELDS = tuple(field.name for field in fields(MountEntry))


def classify(mounts: Iterable[MountEntry], container_root: str = CONTAINER_ROOT) -> list[Mount]:
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


def source_provenance(mount: MountEntry, by_source: dict[tuple[str, str], str]) -> str | None:
    """The provenance of the closest container mount a bind was made from, if any."""
    best: tuple[int, str] | None = None
    for (device, root), provenance in by_source.items():
        closer = best is None or len(root) > best[0]
        if device == mount.device and is_under(mount.root, root) and closer:
            best = (len(root), provenance)
    return best[1] if best else None


def with_provenance(mount: MountEntry, provenance: str) -> Mount:
    return Mount(**{name: getattr(mount, name) for name in ENTRY_FIELDS}, provenance=provenance)
