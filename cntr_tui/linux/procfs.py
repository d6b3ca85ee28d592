"""Files of /proc/PID: reading one, the error for a process that is gone, argv, comm,
environment, the executable and root links, threads, children, the LSM label.

Every reader takes a host PID (or "self") and raises `ProcessGone` (a
`ProcessLookupError`) when the process does not exist or exits while it is read;
`PermissionError` passes through (another user's `environ` needs ptrace rights).
Cheap: imports os only.
"""

from __future__ import annotations

import os

PROC = "/proc"
ESRCH = 3  # a process that exits between open() and read()


class ProcessGone(ProcessLookupError):
    """The process does not exist (any more)."""


def gone(pid: int | str) -> ProcessGone:
    return ProcessGone(f"process {pid} does not exist")


def read_bytes(pid: int | str, name: str) -> bytes:
    """/proc/PID/NAME, whole."""
    try:
        with open(f"{PROC}/{pid}/{name}", "rb") as file:
            return file.read()
    except (FileNotFoundError, ProcessLookupError) as error:
        raise gone(pid) from error
    except OSError as error:
        if error.errno == ESRCH:
            raise gone(pid) from error
        raise


def read_text(pid: int | str, name: str) -> str:
    return read_bytes(pid, name).decode(errors="replace")


def pids() -> list[int]:
    """Every visible PID (thread group leaders only)."""
    return [int(name) for name in os.listdir(PROC) if name.isdigit()]


def exists(pid: int) -> bool:
    return pid > 0 and os.path.isdir(f"{PROC}/{pid}")


def read_cmdline(pid: int) -> list[str]:
    """argv of `pid`; empty for kernel threads and zombies."""
    raw = read_bytes(pid, "cmdline")
    return [part.decode(errors="replace") for part in raw.split(b"\0")[:-1]] if raw else []


def comm(pid: int) -> str:
    """The kernel's short name of `pid` (at most 15 characters)."""
    return read_text(pid, "comm").rstrip("\n")


def command_line(pid: int) -> str:
    """argv joined by spaces, or `[comm]` for a process without one (kernel thread)."""
    argv = read_cmdline(pid)
    return " ".join(argv) if argv else f"[{comm(pid)}]"


def read_environ(pid: int) -> dict[str, str]:
    """The environment `pid` was started with (later setenv calls are not visible)."""
    environ: dict[str, str] = {}
    for entry in read_bytes(pid, "environ").split(b"\0"):
        key, sep, value = entry.partition(b"=")
        if sep and key:
            environ[key.decode(errors="replace")] = value.decode(errors="replace")
    return environ


def executable_link(pid: int) -> str:
    """Where /proc/PID/exe points, as this process sees it (a host path; ` (deleted)`
    appended for a deleted file). Raises OSError."""
    return os.readlink(f"{PROC}/{pid}/exe")


def root_link(pid: int) -> str:
    """Where /proc/PID/root points, as this process sees it ("/" for our own root).
    Raises OSError."""
    return os.readlink(f"{PROC}/{pid}/root")


def root_path(pid: int | str) -> str:
    """The path of `pid`'s root directory through /proc (a magic link: paths below it
    resolve in that process's root and mount namespace)."""
    return f"{PROC}/{pid}/root"


def open_root(pid: int | str, flags: int = os.O_RDONLY) -> int:
    """A descriptor (close-on-exec) on `pid`'s root directory; `flags` add to
    O_DIRECTORY (O_PATH for one only to pass on). Raises OSError."""
    return os.open(root_path(pid), flags | os.O_DIRECTORY | os.O_CLOEXEC)


def shares_our_root(pid: int) -> bool:
    """`pid`'s root directory is ours (same device and inode); False if it is gone."""
    try:
        theirs, ours = os.stat(f"{PROC}/{pid}/root"), os.stat("/")
    except OSError:
        return False
    return (theirs.st_dev, theirs.st_ino) == (ours.st_dev, ours.st_ino)


def exists_in_root(pid: int, path: str) -> bool:
    """Whether `path` (absolute, as `pid` names it) exists under `pid`'s root."""
    return os.path.exists(f"{PROC}/{pid}/root{path}")


def thread_ids(pid: int) -> list[int]:
    """The thread IDs of `pid` (its tasks); empty when it is gone."""
    try:
        return [int(task) for task in os.listdir(f"{PROC}/{pid}/task")]
    except OSError:
        return []


def children(pid: int) -> list[int]:
    """Direct children of `pid` (over all its threads), in PID order."""
    found: set[int] = set()
    try:
        tasks = os.listdir(f"{PROC}/{pid}/task")
    except FileNotFoundError as error:
        raise gone(pid) from error
    for task in tasks:
        try:
            with open(f"{PROC}/{pid}/task/{task}/children") as file:
                found.update(int(child) for child in file.read().split())
        except FileNotFoundError:
            continue  # the thread exited meanwhile
    return sorted(found)


def names_our_pids() -> bool:
    """Whether this /proc numbers processes as our PID namespace does (its `self` link
    names our own PID): after a chroot, /proc may be another namespace's."""
    try:
        return os.readlink(f"{PROC}/self") == str(os.getpid())
    except OSError:
        return False


def own_children() -> list[int]:
    """This thread's children (/proc/thread-self/children). Raises OSError, ValueError."""
    return [int(pid) for pid in read_text("thread-self", "children").split()]


def read_sysctl(name: str) -> str:
    """/proc/sys/NAME (e.g. "kernel/cap_last_cap"), whole. Raises OSError."""
    with open(f"{PROC}/sys/{name}") as file:
        return file.read()


def set_exec_label(label: str) -> None:
    """The LSM label this process's next execve takes (AppArmor: `exec PROFILE`).
    Raises OSError."""
    with open(f"{PROC}/self/attr/exec", "w") as file:
        file.write(label)


def security_label(pid: int) -> str | None:
    """The LSM label (AppArmor profile, SELinux context) of `pid`, None without an LSM."""
    try:
        label = read_text(pid, "attr/current").strip("\0\n ")
    except ProcessGone:
        raise
    except OSError:
        return None
    return label or None
