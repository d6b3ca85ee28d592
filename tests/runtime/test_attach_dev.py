"""Nothing of ours is written into a container (issue 12, section 3).

A container whose /dev lacks the standard device nodes (a plain-namespace container's
is empty) gets a private /dev in the session's own mount namespace; one with a proper
/dev (docker) keeps its own. Checked on real containers: the root's tree checksum
(process) or `docker diff` (docker) across a session that runs a login shell writing
to every standard device, and across `cntr-tui gdb --batch`. The demo's process
containers run on a throwaway copy of the cached root, removed with the container.
"""

from __future__ import annotations

import fcntl
import hashlib
import os
import select
import signal
import socket
import stat
import struct
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest

from cntr_tui.attach.session import AttachOptions, AttachSession
from cntr_tui.demo import containers, sweep
from cntr_tui.demo.rootfs import build_rootfs
from cntr_tui.fs import mountapi
from cntr_tui.linux.mountinfo import read_mountinfo
from tests.support.attach import CLI, cli, docker_diff
from tests.support.proc import running, tracer_of, wait_until

# Linux's numbers for the standard character devices
DEVICES = {"null": (1, 3), "zero": (1, 5), "full": (1, 7), "random": (1, 8)}
DEVICES |= {"urandom": (1, 9), "tty": (5, 0)}
LINKS = {"fd": "/proc/self/fd", "stdin": "/proc/self/fd/0"}
LINKS |= {"stdout": "/proc/self/fd/1", "stderr": "/proc/self/fd/2"}
# what a login shell's profile and a user do: write to every standard device
LOGIN_SCRIPT = (
    "for d in null zero full random urandom; do echo cntr-test >/dev/$d; done 2>/dev/null; "
    "[ -e /dev/tty ] && echo via-dev-tty >/dev/tty; "
    "echo written; read reply"
)
OUTPUT_DEADLINE = 30.0
TIOCGPTN = 0x80045430


def tree_checksum(root: str | Path) -> str:
    """Every entry under `root`: its path, type, mode, owner, size, times (but access),
    device number, link target and contents."""
    digest = hashlib.sha256()
    for folder, dirs, files in os.walk(root):
        dirs.sort()
        for name in sorted([*dirs, *files]):
            path = os.path.join(folder, name)
            info = os.lstat(path)
            fields = (
                os.path.relpath(path, root),
                info.st_mode,
                info.st_uid,
                info.st_gid,
                info.st_size,
                info.st_mtime_ns,
                info.st_ctime_ns,
                info.st_rdev,
                info.st_nlink,
            )
            digest.update(repr(fields).encode())
            if stat.S_ISLNK(info.st_mode):
                digest.update(os.fsencode(os.readlink(path)))
            elif stat.S_ISREG(info.st_mode):
                with open(path, "rb") as file:
                    digest.update(hashlib.file_digest(file, "sha256").digest())
        folder_info = os.lstat(folder)
        digest.update(repr((folder, folder_info.st_mtime_ns, folder_info.st_ctime_ns)).encode())
    return digest.hexdigest()


def root_of(pid: int) -> str:
    """The host path of a plain-namespace container's root (its namespace is a copy of
    the host's, so the link's text is a host path)."""
    return os.readlink(f"/proc/{pid}/root")


def read_until(master: int, marker: bytes, deadline: float = OUTPUT_DEADLINE) -> bytes:
    output = b""
    end = time.monotonic() + deadline
    while marker not in output:
        ready, _, _ = select.select([master], [], [], max(0.0, end - time.monotonic()))
        if not ready:
            raise AssertionError(f"no {marker!r} in {output!r}")
        try:
            chunk = os.read(master, 4096)
        except OSError:  # EIO: the terminal's last user is gone
            chunk = b""
        if not chunk:
            raise AssertionError(f"the command ended before {marker!r}: {output!r}")
        output += chunk
    return output


class LoginShell:
    """`sh -lc LOGIN_SCRIPT` on a fresh PTY (its controlling terminal) in a session,
    stopped at its `read` so that its /dev can be looked at from the host."""

    def __init__(self, session: AttachSession, in_container_root: bool) -> None:
        self.master, slave = os.openpty()
        try:
            self.helper = session.spawn(
                ["sh", "-lc", LOGIN_SCRIPT],
                stdin=slave,
                stdout=slave,
                stderr=slave,
                terminal=True,
                in_container_root=in_container_root,
            )
        except BaseException:
            os.close(self.master)
            raise
        finally:
            os.close(slave)
        self.pid = self.helper.command_pid
        try:
            self.output = read_until(self.master, b"written")
        except BaseException:
            os.close(self.master)  # the session's close ends the shell
            raise

    def finish(self) -> int:
        os.write(self.master, b"\n")
        try:
            return self.helper.wait(OUTPUT_DEADLINE)
        finally:
            os.close(self.master)


def mounts_at(pid: int, prefix: str) -> dict[str, tuple[str, str]]:
    """Mount point -> (fstype, super options) for mounts at or under `prefix`."""
    return {
        m.mount_point: (m.fstype, m.super_options)
        for m in read_mountinfo(pid)
        if m.mount_point == prefix or m.mount_point.startswith(prefix + "/")
    }


def mount_table(pid: int | str) -> list[str]:
    with open(f"/proc/{pid}/mountinfo") as file:
        return file.read().splitlines()


def assert_private_dev(shell: LoginShell) -> None:
    """The shell's /dev is the private one, complete and working."""
    dev = f"/proc/{shell.pid}/root/dev"
    for name, (major, minor) in DEVICES.items():
        info = os.lstat(f"{dev}/{name}")
        assert stat.S_ISCHR(info.st_mode), name
        assert (os.major(info.st_rdev), os.minor(info.st_rdev)) == (major, minor), name
        assert stat.S_IMODE(info.st_mode) == 0o666, name
    for name, target in LINKS.items():
        assert os.readlink(f"{dev}/{name}") == target
    mounted = mounts_at(shell.pid, "/dev")
    assert mounted["/dev"][0] == "tmpfs"
    assert mounted["/dev/pts"][0] == "devpts" and "ptmxmode=666" in mounted["/dev/pts"][1]
    assert mounted["/dev/shm"][0] == "tmpfs"
    # its own devpts instance: a terminal opened through its ptmx shows up in its pts
    ptmx = os.open(f"{dev}/ptmx", os.O_RDWR | os.O_NOCTTY | os.O_CLOEXEC)
    try:
        number = struct.unpack("i", fcntl.ioctl(ptmx, TIOCGPTN, b"\0" * 4))[0]
        assert os.path.exists(f"{dev}/pts/{number}")
    finally:
        os.close(ptmx)
    assert b"via-dev-tty" in shell.output  # /dev/tty reached the shell's terminal


FS_CASES = [("fuse", False), ("fuse", True), ("mount", False), ("none", True)]


@pytest.mark.parametrize(("fs", "in_container_root"), FS_CASES)
def test_a_container_without_devices_gets_a_private_dev_and_keeps_its_files(
    start_container, fs: str, in_container_root: bool
):
    container = start_container("process")
    root = root_of(container.pid)
    assert os.listdir(f"{root}/dev") == []
    before = tree_checksum(root)
    container_mounts = mount_table(container.pid)
    host_mounts = mount_table("self")
    with AttachSession(container.pid, AttachOptions(fs=fs)) as session:
        holder = session.root.holder if session.root is not None else None
        holder_mounts = mount_table(holder) if holder is not None else []
        shell = LoginShell(session, in_container_root)
        try:
            assert_private_dev(shell)
            # only in the session's own mount namespace
            own = os.stat(f"/proc/{shell.pid}/ns/mnt").st_ino
            assert own != os.stat(f"/proc/{container.pid}/ns/mnt").st_ino
            assert mount_table(container.pid) == container_mounts
            # (others' containers may come and go in the host's table meanwhile)
            added = set(mount_table("self")) - set(host_mounts)
            assert not [line for line in added if root in line or " devpts " in line]
            if holder is not None:  # nor in the merged root's, which others share
                assert own != os.stat(f"/proc/{holder}/ns/mnt").st_ino
                assert mount_table(holder) == holder_mounts
        finally:
            assert shell.finish() == 0, shell.output
    assert os.listdir(f"{root}/dev") == []
    assert tree_checksum(root) == before


def test_the_containers_own_device_nodes_are_bound_through(start_container):
    container = start_container("process")
    root = root_of(container.pid)
    os.mknod(f"{root}/dev/null", stat.S_IFCHR | 0o666, os.makedev(1, 3))
    os.chmod(f"{root}/dev/null", 0o666)  # past the umask
    os.mknod(f"{root}/dev/loop-cntr-test", stat.S_IFBLK | 0o600, os.makedev(7, 0))
    assert mountapi.lacks_standard_devices(f"{root}/dev")  # no zero, tty...
    before = tree_checksum(root)
    with AttachSession(container.pid) as session:
        shell = LoginShell(session, in_container_root=False)
        try:
            assert_private_dev(shell)
            for name in ("null", "loop-cntr-test"):
                seen = os.stat(f"/proc/{shell.pid}/root/dev/{name}", follow_symlinks=False)
                assert seen.st_ino == os.stat(f"{root}/dev/{name}").st_ino, name
            assert {"/dev/null", "/dev/loop-cntr-test"} <= set(mounts_at(shell.pid, "/dev"))
        finally:
            assert shell.finish() == 0, shell.output
    assert tree_checksum(root) == before


def test_gdb_batch_writes_nothing_into_a_container_without_devices(start_container):
    container = start_container("process")
    root = root_of(container.pid)
    before = tree_checksum(root)
    result = cli("gdb", str(container.pid), "--batch", "-ex", "bt", timeout=120)
    assert result.returncode == 0, result.stderr
    assert b"main () at threads.c:" in result.stdout
    assert b"gdbserver could not be used" not in result.stderr, result.stderr
    assert wait_until(lambda: tracer_of(container.pid) == 0) and running(container.pid)
    assert tree_checksum(root) == before


def files_state(container: containers.StartedContainer) -> str:
    """What a runtime says changed in the container (docker, podman), or a checksum of
    the folder it runs on."""
    if container.runtime in ("docker", "podman"):
        command = [container.runtime, "diff", container.name]
        return subprocess.run(command, capture_output=True, text=True, check=True).stdout
    if container.runtime == "lxc":
        return tree_checksum(containers.LXC_DIR / container.name / "rootfs")
    return tree_checksum(container.root or root_of(container.pid))


def assert_own_dev(shell: LoginShell, container: containers.StartedContainer) -> None:
    seen = os.stat(f"/proc/{shell.pid}/root/dev")
    own = os.stat(f"/proc/{container.pid}/root/dev")
    assert (seen.st_dev, seen.st_ino) == (own.st_dev, own.st_ino)
    assert b"via-dev-tty" in shell.output


@pytest.mark.parametrize("fs", ["fuse", "mount", "none"])
def test_docker_keeps_its_own_dev_and_nothing_is_written(start_container, fs: str):
    container = start_container("docker")
    assert not mountapi.lacks_standard_devices(f"/proc/{container.pid}/root/dev")
    with AttachSession(container.pid, AttachOptions(fs=fs)) as session:
        shell = LoginShell(session, in_container_root=fs == "none")
        try:
            assert_own_dev(shell, container)
            seen_pts = os.stat(f"/proc/{shell.pid}/root/dev/pts").st_dev
            assert seen_pts == os.stat(f"/proc/{container.pid}/root/dev/pts").st_dev
        finally:
            assert shell.finish() == 0, shell.output
    result = cli("gdb", container.name, "--batch", "-ex", "bt", timeout=120)
    assert result.returncode == 0, result.stderr
    assert docker_diff(container.name) == ""


@pytest.mark.parametrize("runtime", ["podman", "containerd", "lxc", "nspawn"])
def test_other_runtimes_keep_their_own_dev_and_their_files(start_container, runtime: str):
    container = start_container(runtime)
    assert not mountapi.lacks_standard_devices(f"/proc/{container.pid}/root/dev")
    before = files_state(container)
    with AttachSession(container.pid) as session:
        shell = LoginShell(session, in_container_root=False)
        try:
            assert_own_dev(shell, container)
        finally:
            assert shell.finish() == 0, shell.output
    word = str(container.pid) if runtime == "nspawn" else container.name
    result = cli("gdb", word, "--batch", "-ex", "bt", timeout=120)
    assert result.returncode == 0, result.stderr
    assert files_state(container) == before


def test_a_process_container_runs_on_a_copy_and_the_cache_stays_unchanged(
    start_container, demo_rootfs: Path
):
    before = tree_checksum(demo_rootfs)
    container = start_container("process")
    root = root_of(container.pid)
    assert not os.path.samefile(root, demo_rootfs)
    marker = f"cntr-test-{uuid.uuid4().hex[:8]}"
    with AttachSession(container.pid) as session:
        # into its /tmp (through /var/lib/cntr, and from inside) and at its /dev
        script = f"echo x >/var/lib/cntr/tmp/{marker}; echo x >/dev/null"
        assert session.run(["sh", "-c", script]) == 0
        assert session.run(["sh", "-c", f"echo y >/tmp/{marker}-in"], in_container_root=True) == 0
    assert sorted(os.listdir(f"{root}/tmp")) == [marker, f"{marker}-in"]  # the writes happened
    assert tree_checksum(demo_rootfs) == before
    container.remove()
    assert not os.path.exists(root)


@pytest.mark.parametrize("ending", [signal.SIGTERM, signal.SIGHUP], ids=["SIGTERM", "SIGHUP"])
def test_the_process_demo_runs_on_a_copy_removed_when_it_ends(
    demo_rootfs: Path, ending: signal.Signals
):
    demo = subprocess.Popen(
        [*CLI, "demo", "--no-ui", "--runtime", "process"],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert demo.stdout is not None
        _, _, pid = demo.stdout.readline().split()
        root = Path(root_of(int(pid)))
        assert not os.path.samefile(root, demo_rootfs)
        assert containers.ROOTS_DIR in root.parents
        demo.send_signal(ending)
        assert demo.wait(timeout=30) == 128 + ending
        assert not root.exists()
    finally:
        if demo.poll() is None:
            demo.kill()
            demo.wait()
        for stream in (demo.stdout, demo.stderr):
            if stream is not None:
                stream.close()


STARTER = """
import signal, sys
from pathlib import Path
from cntr_tui.demo import containers
started = containers.start_process(sys.argv[1], Path(sys.argv[2]))
print(started.pid, started.root, flush=True)
signal.pause()
"""


def start_and_kill_starter(name: str, rootfs: Path) -> Path:
    """Start a process container from a process that is then SIGKILLed (as a killed
    demo or pytest): its container dies with it; returns the root it ran on."""
    starter = subprocess.Popen(
        [sys.executable, "-c", STARTER, name, str(rootfs)], stdout=subprocess.PIPE, text=True
    )
    try:
        assert starter.stdout is not None
        pid, root = starter.stdout.readline().split()
    finally:
        starter.kill()
        starter.wait()
        if starter.stdout is not None:
            starter.stdout.close()
    assert wait_until(lambda: not os.path.exists(f"/proc/{pid}"))
    return Path(root)


def test_a_killed_run_leaves_a_copy_that_the_next_start_and_the_sweep_remove(
    demo_rootfs: Path,
):
    name = f"cntr-test-dev-{uuid.uuid4().hex[:8]}"
    first = start_and_kill_starter(name, demo_rootfs)
    try:
        assert first.is_dir()  # what a killed run leaves behind
        assert containers.ROOTS_DIR in first.parents
        live = containers.start_process(name, demo_rootfs)  # a new demo, same name
        try:
            assert not first.exists()
            assert live.root is not None and live.root.is_dir()
            assert [p for p in sweep.sweep(name) if p.startswith("root:")] == []  # in use
        finally:
            live.remove()
        second = start_and_kill_starter(name, demo_rootfs)
        assert f"root:{second}" in sweep.sweep(name)
        assert not second.exists()
    finally:
        containers.remove_roots(name)


@pytest.mark.usefixtures("tracefs")
def test_the_sweep_removes_a_killed_run_s_ftrace_instance_and_only_its_own():
    name = f"cntr-test-trace-{uuid.uuid4().hex[:8]}"
    ours, other = (Path(sweep.FTRACE_INSTANCES) / n for n in (name, f"x{name}"))
    ours.mkdir()  # what a test's signal trace leaves when its run is killed
    other.mkdir()
    try:
        assert sweep.sweep(name) == [f"ftrace instance:{name}"]
        assert not ours.exists() and other.is_dir()
    finally:
        for instance in (ours, other):
            if instance.exists():
                instance.rmdir()


def test_lacking_standard_devices(tmp_path: Path):
    assert not mountapi.lacks_standard_devices("/dev")
    (tmp_path / "null").write_text("")  # what the bug left: a regular file
    assert mountapi.lacks_standard_devices(str(tmp_path))
    for name, (major, minor) in DEVICES.items():
        path = tmp_path / name
        path.unlink(missing_ok=True)
        os.mknod(path, stat.S_IFCHR | 0o666, os.makedev(major, minor))
    assert not mountapi.lacks_standard_devices(str(tmp_path))


def test_a_cache_written_to_by_a_container_is_built_anew(tmp_path: Path):
    built = build_rootfs(tmp_path)
    (built / "dev/null").write_text("cntr-test\n")  # what the bug left in the cache
    again = build_rootfs(tmp_path)
    assert again == built and os.listdir(again / "dev") == []
    assert (again / "app/threads").is_file()
    assert sorted(p.name for p in tmp_path.iterdir()) == [built.name]  # no stale copy left


# ---- the container's own /dev contents, terminals, odd /dev folders, user namespaces


def populate_dev(root: str) -> None:
    """A /dev as an app might have it without the standard set: two devices, a folder
    of devices, its shared memory, a log symlink, a socket."""
    dev = f"{root}/dev"
    for name, (major, minor) in (("null", (1, 3)), ("zero", (1, 5))):
        os.mknod(f"{dev}/{name}", stat.S_IFCHR | 0o666, os.makedev(major, minor))
    os.mkdir(f"{dev}/net")
    os.mknod(f"{dev}/net/tun", stat.S_IFCHR | 0o666, os.makedev(10, 200))
    os.mkdir(f"{dev}/shm")
    Path(f"{dev}/shm/appseg").write_text("cntr-test-segment\n")
    os.symlink("/run/cntr-test-log.sock", f"{dev}/log")
    os.symlink("/proc/self/fd/9", f"{dev}/stdin")  # the container's own link wins
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    listener.bind(f"{dev}/app.sock")
    listener.close()


SHOW_DEV = (
    "cat /dev/shm/appseg; readlink /dev/log; readlink /dev/stdin; "
    "[ -c /dev/net/tun ] && echo tun-is-a-device; [ -S /dev/app.sock ] && echo a-socket; "
    "[ -c /dev/full ] && [ -c /dev/tty ] && echo filled-in; "
    "ls -i /dev/shm/appseg; echo x >/dev/null && echo wrote-null"
)


@pytest.mark.parametrize("command", ["exec", "attach"])
def test_everything_the_containers_dev_holds_shows_through(start_container, command: str):
    container = start_container("process")
    root = root_of(container.pid)
    populate_dev(root)
    before = tree_checksum(root)
    result = cli(command, str(container.pid), "--", "sh", "-c", SHOW_DEV)
    assert result.returncode == 0, result.stderr
    lines = result.stdout.decode().split("\n")
    assert lines[:6] == [
        "cntr-test-segment",
        "/run/cntr-test-log.sock",
        "/proc/self/fd/9",
        "tun-is-a-device",
        "a-socket",
        "filled-in",
    ], result.stdout
    inode = os.stat(f"{root}/dev/shm/appseg").st_ino
    assert lines[6].split() == [str(inode), "/dev/shm/appseg"]  # the very file, bound
    assert lines[7] == "wrote-null"
    assert tree_checksum(root) == before


TTY_CHECK = (
    't=$(tty) && [ "$(stat -c %d:%i "$t")" = "$(stat -L -c %d:%i /proc/self/fd/0)" ]'
    ' && echo "named:$t"\nexit\n'
)


@pytest.mark.parametrize("command", ["exec", "attach"])
def test_the_terminal_is_on_the_sessions_own_devpts(start_container, command: str):
    container = start_container("process")
    line = " ".join([*CLI, command, str(container.pid)])
    result = subprocess.run(
        ["script", "-qec", line, "/dev/null"],
        input=TTY_CHECK.encode(),
        capture_output=True,
        timeout=OUTPUT_DEADLINE,
    )
    assert result.returncode == 0, result.stderr
    assert b"named:/dev/pts/" in result.stdout, result.stdout
    assert b"not a tty" not in result.stdout


DEV_NOW = "ls /dev; echo x >/dev/null && echo wrote-null"
PRIVATE_DEV = sorted([*DEVICES, *LINKS, "ptmx", "pts", "shm"])


@pytest.mark.parametrize("fs", ["fuse", "mount"])
def test_a_container_with_no_dev_gets_the_private_one_not_the_hosts(start_container, fs: str):
    container = start_container("process")
    root = root_of(container.pid)
    os.rmdir(f"{root}/dev")
    before = tree_checksum(root)
    result = cli("attach", "--fs", fs, str(container.pid), "--", "sh", "-c", DEV_NOW)
    assert result.returncode == 0, result.stderr
    *names, last = result.stdout.decode().split()
    assert sorted(names) == PRIVATE_DEV and last == "wrote-null"
    # exec: its root has no dev folder to mount on, and none is made
    result = cli("exec", str(container.pid), "--", "sh", "-c", DEV_NOW)
    assert b"wrote-null" not in result.stdout
    assert not os.path.lexists(f"{root}/dev")
    assert tree_checksum(root) == before


def test_a_symlinked_dev_is_covered_where_it_leads(start_container):
    container = start_container("process")
    root = root_of(container.pid)
    os.rmdir(f"{root}/dev")
    os.symlink("tmp", f"{root}/dev")
    Path(f"{root}/tmp/cntr-test-kept").write_text("kept\n")
    before = tree_checksum(root)
    script = "cat /dev/cntr-test-kept; [ -c /dev/null ] && echo x >/dev/null && echo null-ok"
    for argv in (["exec"], ["attach"]):
        result = cli(*argv, str(container.pid), "--", "sh", "-c", script)
        assert result.returncode == 0, result.stderr
        assert result.stdout == b"kept\nnull-ok\n", (argv, result.stdout)
    with AttachSession(container.pid) as session:  # the container's root at / in attach
        assert session.run(["sh", "-c", script], in_container_root=True) == 0
    assert os.listdir(f"{root}/tmp") == ["cntr-test-kept"]
    assert tree_checksum(root) == before


def start_in_user_namespace(name: str, rootfs: Path) -> containers.StartedContainer:
    """A plain-namespace container in a user namespace whose setgroups is denied
    (unshare --map-root-user writes "deny"), on a throwaway root."""
    root = containers.throwaway_root(name, rootfs)
    flags = ["--user", "--map-root-user", "--fork", "--kill-child", "--pid", "--mount"]
    flags += ["--propagation=private", "--mount-proc=/proc", f"--root={root.path}", "--wd=/"]
    try:
        process = subprocess.Popen(
            ["unshare", *flags, "/app/threads"],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
            preexec_fn=containers.die_with_parent,
        )
    except BaseException:
        root.remove()
        raise

    def cleanup() -> None:
        containers.terminate(process)
        root.remove()

    try:
        containers.wait_ready(process, "unshare")
        pid = containers.container_init_of(process.pid)
    except BaseException:
        cleanup()
        raise
    return containers.StartedContainer("process", name, pid, cleanup, root=root.path)


@pytest.fixture
def user_namespace_container(demo_rootfs: Path):
    container = start_in_user_namespace(f"cntr-test-userns-{uuid.uuid4().hex[:8]}", demo_rootfs)
    yield container
    container.remove()


def test_a_user_namespace_that_denies_setgroups_can_be_attached(user_namespace_container):
    container = user_namespace_container
    with open(f"/proc/{container.pid}/setgroups") as file:
        assert file.read().strip() == "deny"
    groups = "grep -h Groups /proc/self/status /proc/1/status"
    for command in ("attach", "exec"):
        result = cli(command, str(container.pid), "--", "sh", "-c", groups)
        assert result.returncode == 0, result.stderr
        ours, its = result.stdout.decode().splitlines()
        assert ours == its  # the container's own groups, as its namespace shows them
    result = cli("attach", str(container.pid), "--", "id", "-u")
    assert result.stdout == b"0\n", result.stderr
    result = cli("gdb", str(container.pid), "--batch", "-ex", "bt", timeout=120)
    assert result.returncode == 0, result.stderr
    assert b"main () at threads.c:" in result.stdout
    assert wait_until(lambda: tracer_of(container.pid) == 0) and running(container.pid)


def test_a_failed_step_is_named_once():
    from cntr_tui.attach.helper_process import failure
    from cntr_tui.linux import syscalls

    with pytest.raises(OSError) as raised:
        syscalls.setns(-1, syscalls.CLONE_NEWNS)
    assert failure(raised.value) == "setns: Bad file descriptor"
    with pytest.raises(OSError) as raised:
        syscalls.mount(None, "/nonexistent-cntr-test", None, syscalls.MS_BIND)
    assert failure(raised.value) == "/nonexistent-cntr-test: mount: No such file or directory"
