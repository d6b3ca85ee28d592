"""Attach sessions, from the caller's side: start, observe and stop them.

Public API (stable; the gdb and TUI code use it):

    from cntr_tui.attach.session import AttachOptions, AttachSession

    options = AttachOptions(fs="fuse", join_cgroup=True, effective_user=None)
    with AttachSession(container_or_pid, options) as session:   # raises UserError
        proc = session.spawn(["gdb", "--interpreter=mi3"], stdin=PIPE, stdout=PIPE)
        ...                                # proc is a subprocess.Popen[bytes]
        status = session.run(["ls", "/var/lib/cntr"])   # our stdio; exit status
        status = session.run_interactive()              # fresh PTY relayed to our TTY
        mounts = session.mounts()                       # list[cntr_tui.fs.mounts.Mount]

- `AttachSession(target, options)`: `target` is a `Container` or a host PID. Opening
  acquires the container's merged root: one per (container, fs mode), shared by every
  session on it at once and kept alive (page cache warm) while any session holds it;
  the last session to close tears it down (processes, mounts, FUSE server). Creating
  one is safe from any thread: namespace work happens in fresh helper processes.
  `fs="none"` acquires nothing: spawned commands run in the container's own mount
  namespace, chrooted to its root (what `cntr-tui exec` does).
- `spawn(argv, *, env=None, cwd=None, stdin=None, stdout=None, stderr=None,
  terminal=False, in_container_root=False, pass_fds=(), spare=None)
  -> subprocess.Popen[bytes]`:
  starts argv inside all the container's namespaces (pid included: it gets a container
  PID), host tools at `/`, container root at `/var/lib/cntr` (or chrooted into it with
  `in_container_root`), as the container's user, with the container's environment plus
  the host's PATH (`env` entries are added on top; nothing else of the caller's
  environment passes). stdio arguments are as for Popen (PIPE, DEVNULL, an fd, a file);
  the pipes are plain fds, usable with asyncio. `terminal=True` makes stdin the
  command's controlling terminal (pass a PTY slave). `pass_fds`: our descriptors (3 and
  up) the command gets at the same numbers, as with Popen; no other process of the
  session keeps them (the helper and its reaper close theirs once the command runs),
  so a command can reach a host folder as `/proc/self/fd/N` (an O_PATH descriptor)
  wherever it is chrooted. The Popen's pid is a helper that forwards SIGINT, SIGTERM,
  SIGHUP, SIGQUIT and exits with the command's status (128+N when killed by signal
  N); `proc.command_pid` is the command's host PID. Raises UserError if the command
  cannot be started (the message is one line). `spare`: a `spare.SpareHelper` started
  earlier, whose helper (Python already up) is used when it is still available; stdio
  then cannot be PIPE (a spare is not used for such a spawn). `own_session=True`: the
  helper is out of our session and process group (our terminal's signals are not
  forwarded to the command).
- `run(argv) -> int`: spawn with this process's stdio, wait, return the status.
- `run_interactive(argv=None, *, in_container_root=False) -> int`: a fresh PTY (on the
  devpts the command sees, so `tty` names it inside) relayed to this process's terminal
  (raw mode; window resize when called from the main thread); default argv: the host
  user's login shell. A TUI wanting its own terminal widget opens a pair with
  `master, slave, devpts = session.open_terminal()` and passes the slave to
  `spawn(..., stdin=slave, stdout=slave, stderr=slave, terminal=True, devpts=devpts)`
  (then closes `devpts` when not None): the pair is on the devpts the command's
  `/dev/pts` is (the container's own, or a new instance that its private /dev mounts).
- `spawn` blocks until the command is started (~0.1-0.3 s): from asyncio, call it
  through `asyncio.to_thread`.
- `mounts() -> list[Mount]`: the session's mount table with provenance
  (host/container/volume/virtual), from the holder's mountinfo.
- `close()`: kills commands still running (SIGKILL to the command and everything it
  started, through their helper's reaper), releases the merged root; if this was the
  last session, waits (a few seconds at most) until the FUSE server has exited and the
  mounts are gone. Also on `__exit__`. If the caller dies, each helper ends its command
  the same way, and the server, once the last holder (helpers hold a copy of the
  session's hold) is gone, tears down.
- No process a command leaves behind outlives it: each runs under a reaper in the
  container's PID namespace (`reaper_process.py`), so nothing is handed to the container's init.
- Attributes: `container` (Container), `pid` (host PID of its main process), `root`
  (`RootInfo`: holder, server, connection, mode) or None with fs="none".

Beside this module: `identity` (who the commands run as), `merged_root` (the hold on
the file server), `spawn` (one command's helper and its plan's descriptors),
`helper_process` and `reaper_process` (the processes that enter the container).
"""

from __future__ import annotations

import contextlib
import marshal
import os
import signal
import socket
import subprocess
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from cntr_tui.attach.cgroups import SETUP_FAILED, cgroup_procs_files, join_cgroups
from cntr_tui.attach.container import Container
from cntr_tui.attach.identity import (
    Identity,
    apparmor_profile,
    container_identity,
    effective_identity,
    host_login_shell,
    outside_id,
)
from cntr_tui.attach.merged_root import (
    RootInfo,
    acquire_root,
    existing_start_ticks,
    release_root,
)
from cntr_tui.attach.spare import SessionProcess, SpareHelper, StdioArg
from cntr_tui.attach.spawn import (
    PendingSpawn,
    SessionProcesses,
    abandon,
    send_with_descriptors,
    start_own_helper,
)
from cntr_tui.errors import UserError
from cntr_tui.fs.mountapi import is_devpts, new_devpts, resolve_in
from cntr_tui.fs.mounts import CONTAINER_ROOT, Mount, classify
from cntr_tui.linux.capabilities import CAP_SYS_CHROOT, CAP_SYS_PTRACE
from cntr_tui.linux.idmaps import id_maps
from cntr_tui.linux.mountinfo import read_mountinfo
from cntr_tui.linux.namespaces import namespaces_differing
from cntr_tui.linux.process_status import status
from cntr_tui.linux.procfs import exists, read_environ, root_path

DEFAULT_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
FS_MODES = ("fuse", "mount", "none")


@dataclass(frozen=True)
class AttachOptions:
    """How to attach: `fs` is fuse (default), mount (kernel mount API) or none."""

    fs: str = "fuse"
    join_cgroup: bool = True
    effective_user: str | None = None


def to_container(target: Container | int) -> Container:
    if isinstance(target, Container):
        return target
    pid = int(target)
    if not exists(pid):
        raise UserError(f"process {pid} does not exist")
    try:
        kinds = namespaces_differing(pid)
    except ProcessLookupError:
        raise UserError(f"process {pid} does not exist") from None
    return Container("process", str(pid), str(pid), pid, namespaces=kinds)


# ---- the session -----------------------------------------------------------------


class AttachSession:
    """One attach to one container; see the module docstring for the API."""

    def __init__(self, target: Container | int, options: AttachOptions | None = None) -> None:
        self.options = options or AttachOptions()
        if self.options.fs not in FS_MODES:
            raise UserError(f"unknown file system mode {self.options.fs!r}")
        if os.geteuid() != 0:
            raise UserError("attaching needs root (namespaces, mounts and FUSE): run it with sudo")
        self.container = to_container(target)
        self.pid = self.container.pid
        self.ticks = existing_start_ticks(self.pid)
        self.processes: SessionProcesses = []
        self.root: RootInfo | None = None
        self.hold: socket.socket | None = None
        self.closed = False
        self.identity = self.read_identity()
        self.cgroup_files = cgroup_procs_files(self.pid) if self.options.join_cgroup else []
        if self.options.fs != "none":
            self.hold, self.root = acquire_root(self.pid, self.options.fs)

    def host_identity(self) -> tuple[int, int]:
        """The uid and gid, as the host numbers them, that the session's commands run as."""
        maps = id_maps(self.pid)
        return outside_id(maps.uid, self.identity.uid), outside_id(maps.gid, self.identity.gid)

    def host_groups(self) -> list[int]:
        maps = id_maps(self.pid)
        return [outside_id(maps.gid, group) for group in self.identity.groups]

    def read_identity(self) -> Identity:
        try:
            if self.options.effective_user:
                return effective_identity(self.pid, self.options.effective_user)
            return container_identity(self.pid)
        except ProcessLookupError:
            raise UserError(f"process {self.pid} exited") from None

    def __enter__(self) -> AttachSession:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def environment(self, extra: dict[str, str] | None, in_container_root: bool) -> dict[str, str]:
        try:
            env = read_environ(self.pid)
        except ProcessLookupError:
            raise UserError(f"process {self.pid} exited") from None
        if not in_container_root:
            env["PATH"] = os.environ.get("PATH", DEFAULT_PATH)
        env.setdefault("PATH", DEFAULT_PATH)
        env.update(extra or {})
        return env

    def plan(
        self,
        argv: Sequence[str],
        env: dict[str, str] | None,
        cwd: str | None,
        terminal: bool,
        in_container_root: bool,
        pass_fds: Sequence[int] = (),
    ) -> dict[str, Any]:
        chroot_container = in_container_root or self.root is None
        keep = status(self.pid).capabilities.effective
        keep |= 1 << CAP_SYS_PTRACE | 1 << CAP_SYS_CHROOT
        return {
            "pid": self.pid,
            "start_time": self.ticks,
            # the merged root's mount namespace is its holder's
            "mnt_holder": self.root.holder if self.root else None,
            "chroot": self.chroot_target(chroot_container),
            "keep_capabilities": keep,
            "uid": self.identity.uid,
            "gid": self.identity.gid,
            "groups": self.identity.groups,
            # the same, numbered as the host does (set before joining a user namespace
            # whose setgroups is denied)
            "host_groups": self.host_groups(),
            "env": self.environment(env, chroot_container),
            "cwd": cwd or "/",
            "argv": list(argv),
            "terminal": terminal,
            "apparmor": apparmor_profile(self.pid),
            # the helper and its reaper keep a copy of our hold on the merged root until
            # the command and its leftovers are gone: if we die, the server's teardown
            # (which SIGKILLs what is left in the mount namespace) waits for them
            "hold_fd": self.hold.fileno() if self.hold is not None else None,
            "pass_fds": list(pass_fds),
            "devpts_fd": None,
        }

    def chroot_target(self, chroot_container: bool) -> str | None:
        if not chroot_container:
            return None
        if self.root is None:
            return "process-root"
        return CONTAINER_ROOT

    def spawn(self, argv: Sequence[str], **options: Any) -> SessionProcess:
        """Start `argv` in the session and wait for its start (`begin_spawn`'s options:
        env, cwd, stdin, stdout, stderr, terminal, in_container_root, pass_fds, spare)."""
        return self.begin_spawn(argv, **options).result()

    def begin_spawn(
        self,
        argv: Sequence[str],
        *,
        env: dict[str, str] | None = None,
        cwd: str | None = None,
        stdin: StdioArg = None,
        stdout: StdioArg = None,
        stderr: StdioArg = None,
        terminal: bool = False,
        in_container_root: bool = False,
        pass_fds: Sequence[int] = (),
        spare: SpareHelper | None = None,
        own_session: bool = False,
        devpts: int | None = None,
    ) -> PendingSpawn:
        """`spawn`'s first half: the helper has its plan (and its copies of stdio and
        `pass_fds`: the caller may close them) when this returns; `result()` waits for
        the command's start. The wait blocks without the GIL, so it can go to a thread
        while this one goes on. `own_session`: the helper is not in our session and
        process group, so our terminal's SIGHUP and SIGINT are not forwarded to the
        command (gdb, gdbserver: our own handlers decide). `devpts`: a detached devpts
        instance (`open_terminal`) that becomes the command's /dev/pts when its /dev
        has no devpts of its own."""
        if self.closed:
            raise UserError("the attach session is closed")
        if not argv:
            raise UserError("no command given")
        if any(fd < 3 for fd in pass_fds):
            raise ValueError("pass_fds: stdio goes through stdin, stdout and stderr")
        try:
            plan = self.plan(argv, env, cwd, terminal, in_container_root, pass_fds)
        except ProcessLookupError:
            raise UserError(f"process {self.pid} exited") from None
        plan["devpts_fd"] = devpts
        stdio = (stdin, stdout, stderr)
        taken = spare.take() if spare is not None and subprocess.PIPE not in stdio else None
        if taken is not None:
            helper, ours = taken
        else:
            helper, ours = start_own_helper(plan, stdin, stdout, stderr, own_session)
        try:
            # here, while Python starts in the helper (a spare may be in already)
            if taken is None or spare.joined != tuple(self.cgroup_files):  # type: ignore[union-attr]
                join_cgroups(helper.pid, self.cgroup_files)
        except UserError:
            helper.kill()  # it is waiting for the plan
            abandon(helper, ours)
            raise
        # marshal: the helper is the same interpreter (json would cost its start ~10 ms)
        try:
            if taken is None:
                ours.send(marshal.dumps(plan))
            else:
                send_with_descriptors(ours, plan, stdio)
        except OSError:
            helper.kill()
            abandon(helper, ours)
            raise UserError("the attach helper died", SETUP_FAILED) from None
        return PendingSpawn(self.processes, helper, ours)

    def run(self, argv: Sequence[str], *, in_container_root: bool = False) -> int:
        """Run argv with this process's stdio; SIGINT goes to the command, not to us."""
        helper = self.spawn(argv, in_container_root=in_container_root)
        if threading.current_thread() is not threading.main_thread():
            return helper.wait()
        previous = signal.signal(signal.SIGINT, signal.SIG_IGN)
        try:
            return helper.wait()
        finally:
            signal.signal(signal.SIGINT, previous)

    def run_interactive(
        self, argv: Sequence[str] | None = None, *, in_container_root: bool = False
    ) -> int:
        from cntr_tui.attach.pty import relay

        command = list(argv) if argv else host_login_shell()
        master, slave, devpts = self.open_terminal()
        try:
            return relay(
                lambda slave, env: self.spawn(
                    command,
                    env=env,
                    stdin=slave,
                    stdout=slave,
                    stderr=slave,
                    terminal=True,
                    in_container_root=in_container_root,
                    devpts=devpts,
                ),
                pair=(master, slave),
            )
        finally:
            if devpts is not None:
                os.close(devpts)

    def open_terminal(self) -> tuple[int, int, int | None]:
        """A PTY pair (master, slave) for a command of this session and the detached
        devpts it is on (None: the container's own, which its commands see): pass it
        as `spawn(..., devpts=...)`, then close it. The pair is on the devpts the
        command's /dev/pts will be, so that `tty` names the terminal inside."""
        from cntr_tui.attach.pty import open_pty, open_pty_on

        root = root_path(self.pid)
        dev = resolve_in(root, "/dev")
        if dev is not None and is_devpts(f"{dev}/pts"):
            master, slave = open_pty(root)
            return master, slave, None
        devpts = new_devpts()
        try:
            master, slave = open_pty_on(devpts)
        except BaseException:
            os.close(devpts)
            raise
        return master, slave, devpts

    def mounts(self) -> list[Mount]:
        if self.root is None:
            return classify(read_mountinfo(self.pid), container_root="/")
        return classify(read_mountinfo(self.root.holder))

    def close(self) -> None:
        if self.closed:
            return
        self.closed = True
        for helper, channel in self.processes:
            channel.close()  # the helper kills a command still running
            with contextlib.suppress(subprocess.TimeoutExpired):
                helper.wait(5)
            if helper.returncode is None:
                helper.kill()
                helper.wait()
        self.processes.clear()
        if self.hold is not None and self.root is not None:
            release_root(self.hold, self.root)


def measure_attach(target: Container | int, options: AttachOptions | None = None) -> float:
    """Seconds from nothing to `true` having run inside (for the benchmark)."""
    started = time.perf_counter()
    with AttachSession(target, options) as session:
        session.run(["true"])
    return time.perf_counter() - started
