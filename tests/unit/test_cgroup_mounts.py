"""Which cgroup mount holds a process's cgroup: inside a node debug pod the pod's own
`/sys/fs/cgroup` is rooted at the pod's cgroup, and only the node's `/host/sys/fs/cgroup`
holds another container's."""

from __future__ import annotations

from cntr_tui.linux.cgroups import CgroupEntry, mount_of
from cntr_tui.linux.mountinfo import MountEntry

CONTAINER = "/system.slice/docker-0123abcd.scope"


def cgroup2(mount_id: int, root: str, mount_point: str) -> MountEntry:
    return MountEntry(mount_id, 1, "0:26", root, mount_point, "cgroup2", "cgroup2", "rw")


def freezer(mount_id: int, root: str, mount_point: str) -> MountEntry:
    return MountEntry(
        mount_id, 1, "0:27", root, mount_point, "cgroup", "cgroup", "rw", "rw,freezer"
    )


def test_the_mount_whose_root_holds_the_path_wins_over_the_first_one() -> None:
    pod = cgroup2(10, "/system.slice/docker-pod.scope", "/sys/fs/cgroup")
    node = cgroup2(11, "/", "/host/sys/fs/cgroup")
    entry = CgroupEntry(0, (), CONTAINER)
    assert mount_of(entry, [pod, node]) == node


def test_the_deepest_root_that_holds_the_path_wins() -> None:
    node = cgroup2(11, "/", "/host/sys/fs/cgroup")
    slice_ = cgroup2(12, "/system.slice", "/mnt/system-slice")
    entry = CgroupEntry(0, (), CONTAINER)
    assert mount_of(entry, [node, slice_]) == slice_


def test_a_root_is_a_folder_not_a_name_prefix() -> None:
    near = cgroup2(12, "/system.slice/docker-0123", "/mnt/near")
    node = cgroup2(11, "/", "/host/sys/fs/cgroup")
    entry = CgroupEntry(0, (), CONTAINER)
    assert mount_of(entry, [near, node]) == node


def test_v1_picks_by_controllers_and_then_by_root() -> None:
    pod = freezer(20, "/docker/pod", "/sys/fs/cgroup/freezer")
    node = freezer(21, "/", "/host/sys/fs/cgroup/freezer")
    v2 = cgroup2(11, "/", "/sys/fs/cgroup/unified")
    entry = CgroupEntry(7, ("freezer",), "/docker/0123abcd")
    assert mount_of(entry, [v2, pod, node]) == node


def test_without_a_holding_root_the_first_matching_mount_is_kept() -> None:
    pod = cgroup2(10, "/system.slice/docker-pod.scope", "/sys/fs/cgroup")
    entry = CgroupEntry(0, (), CONTAINER)
    assert mount_of(entry, [pod]) == pod
    assert mount_of(CgroupEntry(7, ("memory",), "/x"), [pod]) is None
