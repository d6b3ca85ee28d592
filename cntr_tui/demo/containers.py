"""Start and remove slim containers of each runtime from the demo root file system.

Used by `cntr-tui demo` and by the test bed. Each `start_*` function returns a
`StartedContainer` once the program inside has printed its `ready` line or its
runtime reports it running; `remove()` stops it and deletes what was created.
A runtime that runs on a folder (plain namespaces, nspawn, containerd) gets a
throwaway copy of the cached root under `ROOTS_DIR`, never the cache itself.
"""

from __future__ import annotations

import contextlib
import ctypes
import fcntl
import os
import shutil
import signal
import subprocess
import tempfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from cntr_tui.errors import UserError
from cntr_tui.linux.namespaces import namespace_inode
from cntr_tui.linux.procfs import ProcessGone, children

IMAGE = "cntr-tui-demo"
LXC_DIR = Path("/var/lib/lxc")
CONTAINERD_SOCKET = "/run/containerd/containerd.sock"
K8S_NAMESPACE = "k8s.io"
PR_SET_PDEATHSIG = 1
PODMAN_LIMITS = ("--ulimit", "nofile=1024:1024", "--ulimit", "nproc=1024:1024")
ROOTS_DIR = Path("/var/tmp/cntr-tui-roots")  # NAME-XXXXXXXX: a container's own root


@dataclass
class StartedContainer:
    """A container this module started; `remove()` is safe to call twice."""

    runtime: str
    name: str
    pid: int
    cleanup: Callable[[], None] = field(repr=False)
    removed: bool = field(default=False, repr=False)
    root: Path | None = None  # the host folder it runs on, for those that run on one

    def remove(self) -> None:
        if not self.removed:
            self.removed = True
            self.cleanup()


def run(*command: str, check: bool = True, input_: bytes | None = None) -> str:
    result = subprocess.run(command, capture_output=True, input=input_)
    if check and result.returncode != 0:
        message = result.stderr.decode(errors="replace").strip().splitlines()
        raise UserError(f"{' '.join(command[:3])} failed: {message[-1] if message else '?'}")
    return result.stdout.decode(errors="replace").strip()


def quiet(*command: str) -> None:
    subprocess.run(command, capture_output=True)


def tar_of(rootfs: Path) -> bytes:
    return subprocess.run(
        ["tar", "-C", str(rootfs), "-c", "."], capture_output=True, check=True
    ).stdout


def image_tag(rootfs: Path) -> str:
    return f"{IMAGE}:{rootfs.name.removeprefix('rootfs-')}"


def copy_rootfs(rootfs: Path, destination: Path) -> None:
    subprocess.run(["cp", "-a", f"{rootfs}/.", str(destination)], check=True)


@dataclass
class ThrowawayRoot:
    """A copy of the cached root for one container. Its folder is flock()ed through
    `lock_fd` while the process that made it lives: one without a lock is a leftover."""

    path: Path
    lock_fd: int

    def remove(self) -> None:
        shutil.rmtree(self.path, ignore_errors=True)
        os.close(self.lock_fd)


@contextlib.contextmanager
def roots_locked() -> Iterator[None]:
    """Making a root and looking for leftovers exclude each other."""
    ROOTS_DIR.mkdir(mode=0o755, parents=True, exist_ok=True)
    lock = os.open(ROOTS_DIR / ".lock", os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
    try:
        fcntl.flock(lock, fcntl.LOCK_EX)
        yield
    finally:
        os.close(lock)


def lock_folder(folder: Path, flags: int) -> int | None:
    """A descriptor holding an flock on `folder`, or None if someone else holds one."""
    fd = os.open(folder, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
    try:
        fcntl.flock(fd, flags)
    except BlockingIOError:
        os.close(fd)
        return None
    return fd


def remove_roots(prefix: str) -> list[Path]:
    """Remove the throwaway roots left behind (unlocked) whose name starts with
    `prefix`; returns those removed."""
    if not ROOTS_DIR.is_dir():
        return []
    removed = []
    with roots_locked():
        for folder in ROOTS_DIR.iterdir():
            if not folder.name.startswith(prefix) or not folder.is_dir():
                continue
            lock = lock_folder(folder, fcntl.LOCK_EX | fcntl.LOCK_NB)
            if lock is not None:
                shutil.rmtree(folder, ignore_errors=True)
                os.close(lock)
                removed.append(folder)
    return removed


def throwaway_root(name: str, rootfs: Path) -> ThrowawayRoot:
    """A fresh copy of `rootfs` for container `name`; copies an earlier container of
    that name left behind (a killed demo) go first."""
    remove_roots(f"{name}-")
    with roots_locked():
        folder = Path(tempfile.mkdtemp(prefix=f"{name}-", dir=ROOTS_DIR))
        lock = lock_folder(folder, fcntl.LOCK_SH)
    assert lock is not None  # no one else locks it exclusively
    root = ThrowawayRoot(folder, lock)
    try:
        copy_rootfs(rootfs, folder)  # the root's own mode too: mkdtemp made it 0700
    except BaseException:
        root.remove()
        raise
    return root


def child_pids(pid: int) -> list[int]:
    try:
        return children(pid)
    except ProcessGone:
        return []


def wait_ready(process: subprocess.Popen[bytes], what: str) -> None:
    """Block until the demo program says `ready` on its stdout (or the process ends)."""
    assert process.stdout is not None
    for line in process.stdout:
        if line.startswith(b"ready"):
            return
    raise UserError(f"{what} exited before its program was ready (status {process.wait()})")


# docker


def docker_available() -> bool:
    if shutil.which("docker") is None:
        return False
    return subprocess.run(["docker", "version"], capture_output=True).returncode == 0


def ensure_image(tool: str, rootfs: Path) -> str:
    """Import the rootfs as an image of `tool` (docker or podman) unless it has it."""
    tag = image_tag(rootfs)
    if subprocess.run([tool, "image", "inspect", tag], capture_output=True).returncode:
        run(tool, "import", "-", tag, input_=tar_of(rootfs))
    return tag


def start_docker(
    name: str, rootfs: Path, program: str = "/app/threads", user: str | None = None
) -> StartedContainer:
    """`user`: run the program as this user (`docker run --user`, e.g. "1000:1000")."""
    tag = ensure_image("docker", rootfs)
    as_user = ["--user", user] if user else []
    run("docker", "run", "-d", "--name", name, "--network", "none", *as_user, tag, program)
    pid = int(run("docker", "inspect", "-f", "{{.State.Pid}}", name))
    return StartedContainer("docker", name, pid, lambda: quiet("docker", "rm", "-f", name))


# podman


def start_podman(name: str, rootfs: Path, program: str = "/app/threads") -> StartedContainer:
    tag = ensure_image("podman", rootfs)
    run("podman", "run", "-d", "--name", name, "--network", "none", *PODMAN_LIMITS, tag, program)
    pid = int(run("podman", "inspect", "-f", "{{.State.Pid}}", name))
    return StartedContainer(
        "podman", name, pid, lambda: quiet("podman", "rm", "-f", "-t", "0", name)
    )


# LXC


def remove_lxc(name: str) -> None:
    quiet("lxc-stop", "-k", "-n", name)
    quiet("lxc-destroy", "-n", name)
    shutil.rmtree(LXC_DIR / name, ignore_errors=True)


def start_lxc(name: str, rootfs: Path, program: str = "/app/threads") -> StartedContainer:
    folder = LXC_DIR / name
    folder.mkdir(parents=True)

    def cleanup() -> None:
        remove_lxc(name)

    try:
        (folder / "rootfs").mkdir()
        copy_rootfs(rootfs, folder / "rootfs")
        (folder / "config").write_text(
            f"lxc.uts.name = {name}\n"
            f"lxc.rootfs.path = dir:{folder}/rootfs\n"
            "lxc.net.0.type = empty\n"
            f"lxc.init.cmd = {program}\n"
            "lxc.apparmor.profile = unconfined\n"
            "lxc.mount.auto = proc sys\n"
        )
        run("lxc-start", "-n", name, "-d")
        run("lxc-wait", "-n", name, "-s", "RUNNING", "-t", "30")
        pid = int(run("lxc-info", "--no-humanize", "--pid", "--name", name))
    except BaseException:
        cleanup()
        raise
    return StartedContainer("lxc", name, pid, cleanup)


# systemd-nspawn (unregistered: no systemd runs as PID 1 on these machines)


def terminate(process: subprocess.Popen[bytes], timeout: float = 10) -> None:
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
    if process.stdout:
        process.stdout.close()


def start_nspawn(name: str, rootfs: Path, program: str = "/app/threads") -> StartedContainer:
    root = throwaway_root(name, rootfs)
    folder = root.path
    process = subprocess.Popen(
        [
            "systemd-nspawn",
            "--quiet",
            "--keep-unit",
            "--register=no",
            "--console=pipe",
            "-D",
            str(folder),
            "--machine",
            name,
            program,
        ],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )

    def cleanup() -> None:
        terminate(process)
        root.remove()

    try:
        wait_ready(process, "systemd-nspawn")
        pid = container_init_of(process.pid)
    except BaseException:
        cleanup()
        raise
    return StartedContainer("nspawn", name, pid, cleanup, root=folder)


def container_init_of(launcher_pid: int) -> int:
    """The first descendant of `launcher_pid` in another PID namespace."""
    own = namespace_inode(launcher_pid, "pid")
    queue = child_pids(launcher_pid)
    while queue:
        pid = queue.pop(0)
        try:
            if namespace_inode(pid, "pid") != own:
                return pid
        except FileNotFoundError:
            continue
        queue += child_pids(pid)
    raise UserError(f"no process in a new PID namespace under {launcher_pid}")


# containerd, in Kubernetes' namespace, with CRI labels like a kubelet would set


def containerd_available(socket: str = CONTAINERD_SOCKET) -> bool:
    if shutil.which("ctr") is None or not os.path.exists(socket):
        return False
    return (
        subprocess.run(["ctr", "--address", socket, "version"], capture_output=True).returncode == 0
    )


def start_containerd(
    name: str,
    rootfs: Path,
    program: str = "/app/threads",
    namespace: str = K8S_NAMESPACE,
    labels: dict[str, str] | None = None,
    socket: str = CONTAINERD_SOCKET,
) -> StartedContainer:
    root = throwaway_root(name, rootfs)
    folder = root.path
    ctr = ("ctr", "--address", socket, "-n", namespace)
    label_args = [
        arg for key, value in (labels or {}).items() for arg in ("--label", f"{key}={value}")
    ]

    def cleanup() -> None:
        remove_containerd(ctr, name)
        root.remove()

    try:
        run(*ctr, "run", "-d", "--rootfs", *label_args, str(folder), name, program)
        pid = containerd_task_pid(ctr, name)
    except BaseException:
        cleanup()
        raise
    return StartedContainer("containerd", name, pid, cleanup, root=folder)


def remove_containerd(ctr: tuple[str, ...], name: str) -> None:
    """Kill and delete task and container `name`; `ctr` is the command with its
    --address and -n options."""
    quiet(*ctr, "task", "kill", "-s", "SIGKILL", name)
    quiet(*ctr, "task", "delete", "-f", name)
    quiet(*ctr, "container", "delete", name)


def containerd_task_pid(ctr: tuple[str, ...], name: str) -> int:
    for line in run(*ctr, "task", "ls").splitlines()[1:]:
        fields = line.split()
        if fields and fields[0] == name:
            return int(fields[1])
    raise UserError(f"containerd task {name} not found")


# plain namespaces: unshare + chroot into a throwaway copy of the root, no runtime at all


def die_with_parent() -> None:
    """In the forked child: SIGKILL when the starting thread dies, even by SIGKILL; then
    unshare's --kill-child takes the container's init with it."""
    libc = ctypes.CDLL(None, use_errno=True)
    libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL)


def start_process(
    name: str, rootfs: Path, program: str = "/app/threads", env: dict[str, str] | None = None
) -> StartedContainer:
    """`env`: the container's environment (default: ours, as a plain `unshare` has)."""
    root = throwaway_root(name, rootfs)
    try:
        process = start_unshare(name, root.path, program, env)
    except BaseException:
        root.remove()
        raise

    def cleanup() -> None:
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGTERM)
        terminate(process)  # unshare waits for the container's init
        root.remove()

    try:
        wait_ready(process, "unshare")
        pid = container_init_of(process.pid)
    except BaseException:
        terminate(process)
        root.remove()
        raise
    return StartedContainer("process", name, pid, cleanup, root=root.path)


def start_unshare(
    name: str, root: Path, program: str, env: dict[str, str] | None
) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [
            "unshare",
            "--fork",
            "--kill-child",
            "--pid",
            "--mount",
            "--uts",
            "--ipc",
            "--net",
            "--propagation=private",
            "--mount-proc=/proc",
            f"--root={root}",
            "--wd=/",
            "/bin/sh",
            "-c",
            f'hostname "$0"; exec {program}',
            name,
        ],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
        preexec_fn=die_with_parent,
        env=env,
    )


STARTERS: dict[str, Callable[..., StartedContainer]] = {
    "docker": start_docker,
    "podman": start_podman,
    "containerd": start_containerd,
    "lxc": start_lxc,
    "nspawn": start_nspawn,
    "process": start_process,
}
