"""Namespaces of a process: the inode of each /proc/PID/ns/KIND, and comparisons with
this process's own (the host's: on some machines PID 1 is a sandbox init whose
/proc/1/ns cannot be read, and cntr-tui runs on the host anyway).

Two processes share a namespace when the inodes are equal. Cheap: imports os and
types only (the attach helper checks a namespace before it opens it).
"""

from __future__ import annotations

import os
from types import MappingProxyType

from cntr_tui.linux.procfs import PROC, gone, pids

TYPE_CHECKING = False  # collections.abc would cost the attach helper's start ~1 ms
if TYPE_CHECKING:
    from collections.abc import Mapping

NAMESPACE_KINDS = ("mnt", "pid", "net", "ipc", "uts", "user", "cgroup")

_host: list[Mapping[str, int]] = []


def namespace_inode(pid: int | str, kind: str) -> int:
    """The inode of `pid`'s namespace of `kind`. Raises FileNotFoundError (no such
    process, or a kind this kernel lacks) and PermissionError."""
    # the link's text `pid:[4026531836]`: readlink is ~10x cheaper than a stat, which
    # resolves the link into nsfs (the discovery scan reads two per process)
    link = os.readlink(f"{PROC}/{pid}/ns/{kind}")
    return int(link[link.index("[") + 1 : -1])


def namespace_inode_or_none(pid: int | str, kind: str) -> int | None:
    """The inode, or None when it cannot be read (gone, unknown kind, no permission)."""
    try:
        return namespace_inode(pid, kind)
    except OSError:
        return None


def namespace_ids(pid: int | str) -> dict[str, int]:
    """Inode number of each namespace kind of `pid` (kinds the kernel lacks are absent).

    `pid` may be "self". Raises `ProcessGone` for a process that does not exist."""
    ids: dict[str, int] = {}
    for kind in NAMESPACE_KINDS:
        try:
            ids[kind] = namespace_inode(pid, kind)
        except FileNotFoundError:
            if not os.path.exists(f"{PROC}/{pid}"):
                raise gone(pid) from None
    return ids


def host_namespace_ids() -> Mapping[str, int]:
    """The namespaces of this process, the reference for "differs from the host"."""
    if not _host:
        _host.append(MappingProxyType(namespace_ids("self")))
    return _host[0]


def differing_kinds(
    ids: Mapping[str, int], reference: Mapping[str, int] | None = None
) -> frozenset[str]:
    """Kinds whose inode in `ids` differs from `reference` (default: the host's)."""
    reference = host_namespace_ids() if reference is None else reference
    return frozenset(kind for kind, inode in ids.items() if reference.get(kind) != inode)


def namespaces_differing(pid: int) -> frozenset[str]:
    """Namespace kinds (mnt, pid, net, ipc, uts, user, cgroup) where `pid` is not the host's."""
    return differing_kinds(namespace_ids(pid))


def same_as_ours(pid: int, kind: str) -> bool:
    """`pid` is in this process's namespace of `kind`. Raises FileNotFoundError."""
    return namespace_inode(pid, kind) == namespace_inode("self", kind)


def members(inode: int, kind: str) -> list[int]:
    """Every visible process in the namespace of `kind` with this inode."""
    return [pid for pid in pids() if namespace_inode_or_none(pid, kind) == inode]


def open_namespace(pid: int | str, kind: str) -> int:
    """A descriptor on `pid`'s namespace of `kind` (for setns), close-on-exec."""
    return os.open(f"{PROC}/{pid}/ns/{kind}", os.O_RDONLY | os.O_CLOEXEC)
