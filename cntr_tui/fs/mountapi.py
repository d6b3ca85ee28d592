"""Build a session's file system layout with the kernel mount API.

The layout, in a private copy of the container's mount namespace: a "fat" root at `/`
(the FUSE merge, or with `--fs mount` a recursive clone of the host's own tree), the
container's whole tree (submounts included) at `/var/lib/cntr`, and the container's
`/proc`, `/dev`, `/sys` and a few `/etc` files bound over the fat ones. Nothing is
written into the container's root.

Run only in a single-threaded process (the holder forked by `cntr_tui.fs.server`).
"""

from __future__ import annotations

import os

from cntr_tui.attach import namespaces as ns

CONTAINER_ROOT = "/var/lib/cntr"
BOUND_DIRECTORIES = ("proc", "dev", "sys")
BOUND_ETC_FILES = ("passwd", "group", "hosts", "resolv.conf", "hostname", "localtime")
FUSE_SUBTYPE = "cntr-tui"
MAX_SYMLINKS = 40


def clone_container_tree(mnt_namespace_fd: int, root_fd: int) -> int:
    """Join the container's mount namespace; clone its process's root tree; then take
    a private copy of the namespace for ourselves. Returns the detached tree's fd.

    The process's root (from `/proc/PID/root`), not the namespace's: a container made
    with chroot has the two differ. The clone must happen before `unshare`, while the
    root's mount is still in our namespace.
    """
    ns.setns(mnt_namespace_fd, ns.CLONE_NEWNS)
    flags = ns.OPEN_TREE_CLONE | ns.OPEN_TREE_CLOEXEC | ns.AT_RECURSIVE | ns.AT_EMPTY_PATH
    tree = ns.open_tree(root_fd, "", flags)
    ns.unshare(ns.CLONE_NEWNS)
    ns.mount(None, "/", None, ns.MS_REC | ns.MS_PRIVATE)
    return tree


def clone_tree(path: str = "/") -> int:
    """A detached recursive copy of the tree at `path` (submounts included), as an fd."""
    flags = ns.OPEN_TREE_CLONE | ns.OPEN_TREE_CLOEXEC | ns.AT_RECURSIVE
    return ns.open_tree(ns.AT_FDCWD, path, flags)


def fuse_mount(dev_fuse_fd: int) -> int:
    """A detached FUSE mount served through `dev_fuse_fd`, as an fd."""
    fs_fd = ns.fsopen("fuse")
    try:
        ns.fsconfig(fs_fd, ns.FSCONFIG_SET_STRING, "source", FUSE_SUBTYPE)
        ns.fsconfig(fs_fd, ns.FSCONFIG_SET_STRING, "subtype", FUSE_SUBTYPE)
        ns.fsconfig(fs_fd, ns.FSCONFIG_SET_STRING, "fd", str(dev_fuse_fd))
        ns.fsconfig(fs_fd, ns.FSCONFIG_SET_STRING, "rootmode", "40000")
        ns.fsconfig(fs_fd, ns.FSCONFIG_SET_STRING, "user_id", "0")
        ns.fsconfig(fs_fd, ns.FSCONFIG_SET_STRING, "group_id", "0")
        ns.fsconfig(fs_fd, ns.FSCONFIG_SET_FLAG, "allow_other")
        ns.fsconfig(fs_fd, ns.FSCONFIG_SET_FLAG, "default_permissions")
        ns.fsconfig(fs_fd, ns.FSCONFIG_CMD_CREATE)
        return ns.fsmount(fs_fd, ns.FSMOUNT_CLOEXEC)
    finally:
        os.close(fs_fd)


def install_root(fat_root_fd: int, container_tree_fd: int) -> None:
    """Stack the fat root on `/`, put the container's tree under it, chroot into it.

    The first access to the fat root (fchdir) is a FUSE request: the server must be
    serving before this is called.
    """
    ns.move_mount(fat_root_fd, "", ns.AT_FDCWD, "/", ns.MOVE_MOUNT_F_EMPTY_PATH)
    os.fchdir(fat_root_fd)
    ns.move_mount(
        container_tree_fd, "", ns.AT_FDCWD, CONTAINER_ROOT.lstrip("/"), ns.MOVE_MOUNT_F_EMPTY_PATH
    )
    os.chroot(".")
    os.chdir("/")
    # Clones of shared mounts would join their peer groups: the binds below must not
    # propagate back into the host's or the container's namespace.
    ns.mount(None, "/", None, ns.MS_REC | ns.MS_PRIVATE)


def resolve_in(root: str, path: str) -> str | None:
    """`root/path` with symlinks resolved as if `root` were `/`; None if it is missing."""
    parts = [part for part in path.split("/") if part]
    resolved: list[str] = []
    followed = 0
    while parts:
        part = parts.pop(0)
        if part == "..":
            if resolved:
                resolved.pop()
            continue
        if part == ".":
            continue
        candidate = os.path.join(root, *resolved, part)
        try:
            target = os.readlink(candidate)
        except FileNotFoundError:
            return None
        except OSError:
            resolved.append(part)  # not a symlink
            continue
        followed += 1
        if followed > MAX_SYMLINKS:
            return None
        if target.startswith("/"):
            resolved = []
        parts = [piece for piece in target.split("/") if piece] + parts
    full = os.path.join(root, *resolved)
    return full if os.path.lexists(full) else None


def bind_container_files() -> list[str]:
    """Bind the container's proc, dev, sys and identity files over the fat ones.

    Returns the targets bound. A file the container or the fat root lacks is skipped.
    """
    bound: list[str] = []
    for name in BOUND_DIRECTORIES:
        source = os.path.join(CONTAINER_ROOT, name)
        target = "/" + name
        if os.path.isdir(source) and os.path.isdir(target):
            ns.mount(source, target, None, ns.MS_BIND | ns.MS_REC)
            bound.append(target)
    for name in BOUND_ETC_FILES:
        source = resolve_in(CONTAINER_ROOT, f"/etc/{name}")
        target = f"/etc/{name}"
        if source is None or not os.path.isfile(source):
            continue
        if not os.path.isfile(target):  # follows a fat symlink; a dangling one is skipped
            continue
        ns.mount(source, target, None, ns.MS_BIND)
        bound.append(target)
    return bound
