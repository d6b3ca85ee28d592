"""Build a session's file system layout with the kernel mount API.

The layout, in a private copy of the container's mount namespace: a "fat" root at `/`
(the FUSE merge, or with `--fs mount` a recursive clone of the host's own tree), the
container's whole tree (submounts included) at `/var/lib/cntr`, and the container's
`/proc`, `/dev`, `/sys` and a few `/etc` files bound over the fat ones. Nothing is
written into the container's root.

A container whose `/dev` lacks the standard device nodes (plain namespaces, some slim
images) would get a regular file `dev/null` from the first `>/dev/null`: each attach
helper covers such a `/dev`, in a mount namespace of its own, with `private_dev`
(everything the container's `/dev` holds stays visible at its path). A container with
no `/dev` (or one that leads nowhere) gets an empty tmpfs over the fat root's, never
the host's devices.

Run only in a single-threaded process (the holder forked by `cntr_tui.fs.server_process`, the
attach helper).
"""

from __future__ import annotations

import os
import stat

from cntr_tui.linux import syscalls as ns

CONTAINER_ROOT = "/var/lib/cntr"
BOUND_DIRECTORIES = ("proc", "dev", "sys")
BOUND_ETC_FILES = ("passwd", "group", "hosts", "resolv.conf", "hostname", "localtime")
FUSE_SUBTYPE = "cntr-tui"
MAX_SYMLINKS = 40

# the nodes a /dev must have as character devices, or it gets a private one
STANDARD_DEVICES = {
    "null": (1, 3),
    "zero": (1, 5),
    "full": (1, 7),
    "random": (1, 8),
    "urandom": (1, 9),
    "tty": (5, 0),
}
DEV_LINKS = {
    "fd": "/proc/self/fd",
    "stdin": "/proc/self/fd/0",
    "stdout": "/proc/self/fd/1",
    "stderr": "/proc/self/fd/2",
    "ptmx": "pts/ptmx",
}
DEV_TMPFS_OPTIONS = "mode=755,size=65536k"
SHM_TMPFS_OPTIONS = "mode=1777,size=65536k"
DEVPTS_OPTIONS = "newinstance,ptmxmode=0666,mode=0620"
PTMX_DEVICE = (5, 2)


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
        if name == "dev":
            # a symlinked /dev as the container resolves it, never the fat root's
            found = resolve_in(CONTAINER_ROOT, "/dev")
            source = found if found is not None and os.path.isdir(found) else None
            if source is None and os.path.isdir(target):
                # none at all: an empty one (each helper then covers it with a private
                # /dev), not the host's devices
                ns.mount("tmpfs", target, "tmpfs", ns.MS_NOSUID, DEV_TMPFS_OPTIONS)
                bound.append(target)
                continue
        if source is not None and os.path.isdir(source) and os.path.isdir(target):
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


def lacks_standard_devices(dev: str) -> bool:
    """Whether the directory `dev` misses one of the standard character devices."""
    for name in STANDARD_DEVICES:
        try:
            if not stat.S_ISCHR(os.lstat(os.path.join(dev, name)).st_mode):
                return True
        except OSError:
            return True
    return False


def is_devpts(pts: str, dir_fd: int | None = None) -> bool:
    """Whether `pts` is a devpts instance (every one has its `ptmx`, c 5:2)."""
    try:
        info = os.stat(os.path.join(pts, "ptmx"), dir_fd=dir_fd, follow_symlinks=False)
    except OSError:
        return False
    return stat.S_ISCHR(info.st_mode) and info.st_rdev == os.makedev(*PTMX_DEVICE)


def shown_through(dev_fd: int) -> tuple[list[tuple[str, bool]], dict[str, str]]:
    """What of the folder `dev_fd` a private /dev shows at the same path: the entries
    to bind (name, is a directory) and the symlinks to recreate (name -> target). Not
    shown: a standard device's name that is not that character device (a regular
    `null` would take the writes) and a `pts` that is not a devpts."""
    bound: list[tuple[str, bool]] = []
    links: dict[str, str] = {}
    for name in os.listdir(dev_fd):
        mode = os.stat(name, dir_fd=dev_fd, follow_symlinks=False).st_mode
        if stat.S_ISLNK(mode):
            if name not in STANDARD_DEVICES:
                links[name] = os.readlink(name, dir_fd=dev_fd)
        elif name in STANDARD_DEVICES:
            if stat.S_ISCHR(mode):
                bound.append((name, False))
        elif stat.S_ISDIR(mode):
            if name != "pts" or is_devpts(name, dev_fd):
                bound.append((name, True))
        else:  # devices, sockets, FIFOs, regular files
            bound.append((name, False))
    return bound, links


def new_devpts() -> int:
    """A detached devpts instance of its own, as a mount fd."""
    fs_fd = ns.fsopen("devpts")
    try:
        for option in DEVPTS_OPTIONS.split(","):
            key, _, value = option.partition("=")
            if value:
                ns.fsconfig(fs_fd, ns.FSCONFIG_SET_STRING, key, value)
            else:
                ns.fsconfig(fs_fd, ns.FSCONFIG_SET_FLAG, key)
        ns.fsconfig(fs_fd, ns.FSCONFIG_CMD_CREATE)
        return ns.fsmount(fs_fd, ns.FSMOUNT_CLOEXEC, ns.MOUNT_ATTR_NOSUID | ns.MOUNT_ATTR_NOEXEC)
    finally:
        os.close(fs_fd)


def private_dev(dev: str, devpts_fd: int | None = None) -> None:
    """Cover the folder `dev` with a tmpfs showing everything `dev` holds at the same
    path (its entries bound through, recursively, its symlinks recreated), then filling
    in what it lacks: the standard devices, the fd links, a devpts instance (the
    detached one `devpts_fd`, where the session's terminal is, or a new one) and shm.
    Only in a private mount namespace: the tmpfs is ours, and nothing is written into
    the folder it covers."""
    original = os.open(dev, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
    clones: dict[str, tuple[int, bool]] = {}
    try:
        bound, links = shown_through(original)
        clone = ns.OPEN_TREE_CLONE | ns.OPEN_TREE_CLOEXEC | ns.AT_RECURSIVE
        for name, is_dir in bound:
            tree = ns.open_tree(original, name, clone | ns.AT_SYMLINK_NOFOLLOW)
            clones[name] = (tree, is_dir)
        ns.mount("tmpfs", dev, "tmpfs", ns.MS_NOSUID, DEV_TMPFS_OPTIONS)
        for name, (tree, is_dir) in clones.items():
            path = os.path.join(dev, name)
            if is_dir:
                os.mkdir(path, 0o755)
            else:
                os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_CLOEXEC, 0o600))
            ns.move_mount(tree, "", ns.AT_FDCWD, path, ns.MOVE_MOUNT_F_EMPTY_PATH)
        for name, target in links.items():
            os.symlink(target, os.path.join(dev, name))
        fill_in(dev, devpts_fd)
    finally:
        os.close(original)
        for tree, _ in clones.values():
            os.close(tree)


def fill_in(dev: str, devpts_fd: int | None) -> None:
    """Add to the private /dev at `dev` the standard entries it does not have yet."""
    for name, (major, minor) in STANDARD_DEVICES.items():
        path = os.path.join(dev, name)
        if not os.path.lexists(path):
            os.mknod(path, stat.S_IFCHR | 0o666, os.makedev(major, minor))
            os.chmod(path, 0o666)  # past the umask
    for name, target in DEV_LINKS.items():
        if not os.path.lexists(os.path.join(dev, name)):
            os.symlink(target, os.path.join(dev, name))
    pts = os.path.join(dev, "pts")
    if not os.path.lexists(pts):
        os.mkdir(pts, 0o755)
        if devpts_fd is not None:
            ns.move_mount(devpts_fd, "", ns.AT_FDCWD, pts, ns.MOVE_MOUNT_F_EMPTY_PATH)
        else:
            ns.mount("devpts", pts, "devpts", ns.MS_NOSUID | ns.MS_NOEXEC, DEVPTS_OPTIONS)
    shm = os.path.join(dev, "shm")
    if not os.path.lexists(shm):
        os.mkdir(shm, 0o755)
        ns.mount("tmpfs", shm, "tmpfs", ns.MS_NOSUID | ns.MS_NODEV, SHM_TMPFS_OPTIONS)
