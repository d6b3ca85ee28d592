"""The attach helper: the single-threaded process that enters a container and runs one
command.

Started by: `attach.spawn` (a helper for one command) or `attach.spare` (started early,
plan to come), as `python -S -c "...helper_process import main; main()" CHANNEL_FD`,
never forked from the caller, which may have threads.
Runs in: the host's namespaces until step 3, then the merged root's mount namespace
(attach) or the container's (exec), and the container's uts, ipc, net, cgroup and user
namespaces; its child, the reaper (`reaper_process`), is in the container's PID
namespace.
Never: start a thread, or import what does (threading, asyncio, trio, textual,
cntr_tui.app, widgets or gdb): setns into a mount or user namespace fails with EINVAL
in a multi-threaded process. Imports stay C modules, ctypes, `fs.mountapi` and the
cheap `cntr_tui.linux` modules: each import costs every session command's start, and
after the chroot the host's standard library may be out of reach.

It receives the plan (a dict, `marshal`led: both sides are the same interpreter) on the
SOCK_SEQPACKET channel, then, in this order:
0. (a spare, started before its plan was known: `spare.py`) installs the descriptors
   that came with the plan (SCM_RIGHTS) at the numbers `plan["install"]` names: the
   command's stdio at 0-2, the merged root's hold and the `pass_fds` at the caller's
   numbers (a helper Popen'd for its command got them so from Popen);
1. opens the container's namespace files and root (host /proc, before anything moves),
   checks the PID still is the same process (start time);
2. (the caller has put this process into the container's cgroups before sending the
   plan, while Python started here: a cgroup v1 move waits for an RCU grace period);
3. joins the mount namespace: the merged root's holder (attach: host tools at /, the
   container at /var/lib/cntr) or the container's own (exec, then chroot to its root);
   if the `/dev` the command will see (a symlinked one resolved inside its root) lacks
   the standard device nodes, or the command's terminal is on a devpts of its own
   (`plan["devpts_fd"]`) that it would not see, takes a private copy of that namespace
   and covers that `/dev` there (`mountapi.private_dev`: the container's entries shown
   through, the missing ones added), so that no `>/dev/null` creates a file in the
   container;
4. joins uts, ipc, net, cgroup, pid namespaces, the user namespace last;
5. limits the capability bounding set, sets groups, gid, uid (a user namespace that
   denies setgroups: the groups are set by their host numbers before joining it);
6. forks the reaper (`reaper_process.py`: inside the PID namespace, a child subreaper), which
   forks and execs the command in a new session, stdio and `plan["pass_fds"]`
   inherited (this process closes its copies then); reports
   `{"started": host_pid_of_the_command}` or `{"error": message, "code": status}`;
7. waits for the reaper, which exits with the command's status (128+signal when
   killed) once the command and everything it left behind are gone; forwards SIGINT,
   SIGTERM, SIGHUP, SIGQUIT to the command; if the channel closes (the caller is
   gone), closes its link to the reaper, which kills the command and its descendants.
"""

from __future__ import annotations

import _signal as signal  # not the wrappers: see reaper_process.py
import _socket as socket
import fcntl
import marshal
import os
import select
import sys

from cntr_tui.attach import reaper_process
from cntr_tui.attach.reaper_process import suppress
from cntr_tui.fs import mountapi
from cntr_tui.linux import syscalls as ns
from cntr_tui.linux.namespaces import open_namespace, same_as_ours
from cntr_tui.linux.proc_stat import start_ticks
from cntr_tui.linux.procfs import ProcessGone, open_root, read_sysctl, read_text, root_link

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

JOIN_ORDER = ("cgroup", "ipc", "uts", "net", "pid")  # then user, last
FORWARDED_SIGNALS = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP, signal.SIGQUIT)
PROCESS_ROOT = "process-root"  # plan["chroot"]: the container process's own root
SETUP_FAILED = reaper_process.SETUP_FAILED
MAX_RECEIVED_FDS = 64


class SetupError(Exception):
    """A step failed; the message is one line for the user, `code` the exit status."""

    def __init__(self, message: str, code: int = SETUP_FAILED) -> None:
        super().__init__(message)
        self.code = code


def open_namespaces(pid: int, kinds: list[str]) -> dict[str, int]:
    """Open /proc/PID/ns/KIND for each kind that differs from ours."""
    opened: dict[str, int] = {}
    for kind in kinds:
        try:
            if same_as_ours(pid, kind):
                continue
            opened[kind] = open_namespace(pid, kind)
        except FileNotFoundError:
            if kind in ("cgroup", "user"):  # kernels without them: nothing to join
                continue
            raise SetupError(f"process {pid} exited") from None
    return opened


def limit_capabilities(keep_mask: int, last_cap: int) -> None:
    for capability in range(last_cap + 1):
        if not keep_mask & (1 << capability) and ns.capbset_has(capability):
            ns.capbset_drop(capability)


def set_identity(uid: int, gid: int, groups: list[int] | None) -> None:
    """`groups` None: keep those set before joining the user namespace."""
    if groups is not None:
        try:
            os.setgroups(groups)
        except OSError as error:
            raise OSError(error.errno, f"setgroups: {error.strerror}") from None
    os.setresgid(gid, gid, gid)
    os.setresuid(uid, uid, uid)


def setgroups_denied(pid: int) -> bool:
    """Whether the process's user namespace forbids setgroups (unshare
    --map-root-user, a map written without privilege)."""
    try:
        return read_text(pid, "setgroups").strip() == "deny"
    except ProcessGone:  # no such file (a kernel before 3.19), or no such process
        return False


def dev_seen(plan: dict[str, Any], root_path: str | None, root_fd: int | None) -> str | None:
    """The path, in the mount namespace just joined, of the `/dev` the command will see,
    a symlinked one resolved inside its root (None: none to cover). `root_path`: where
    the container process's root is in its namespace (its /proc/PID/root link read
    from the host), checked against `root_fd`."""
    if root_fd is None:
        root = plan["chroot"] or "/"
    else:
        assert root_path is not None
        try:
            seen, wanted = os.stat(root_path), os.fstat(root_fd)
        except OSError:
            return None
        if (seen.st_dev, seen.st_ino) != (wanted.st_dev, wanted.st_ino):
            return None  # the root is not reachable by that path here: leave its /dev
        root = root_path
    dev = mountapi.resolve_in(root, "/dev")
    return dev if dev is not None and os.path.isdir(dev) else None


def cover_dev(dev: str | None, devpts_fd: int | None) -> bool:
    """A private mount namespace with a private `/dev` at `dev`, if it lacks devices
    (or a terminal's devpts `devpts_fd` has no other place); True if so."""
    if dev is None:
        return False
    terminal_homeless = devpts_fd is not None and not mountapi.is_devpts(f"{dev}/pts")
    if not mountapi.lacks_standard_devices(dev) and not terminal_homeless:
        return False
    ns.unshare(ns.CLONE_NEWNS)
    ns.mount(None, "/", None, ns.MS_REC | ns.MS_PRIVATE)
    mountapi.private_dev(dev, devpts_fd)
    return True


def enter(plan: dict[str, Any]) -> None:
    """Steps 1-5, in this process (which becomes the command's parent)."""
    pid = int(plan["pid"])
    namespace_fds = open_namespaces(pid, [*JOIN_ORDER, "user"])
    if plan["mnt_holder"]:
        mnt_fd = open_namespace(plan["mnt_holder"], "mnt")
    else:
        mnt_fd = open_namespace(pid, "mnt")
    root_fd = root_path = None
    if plan["chroot"] == PROCESS_ROOT:
        root_fd = open_root(pid)
        root_path = root_link(pid)  # as its own mount namespace has it
    groups: list[int] | None = [int(g) for g in plan["groups"]]
    if "user" in namespace_fds and setgroups_denied(pid):  # host /proc: before setns
        groups = None
    if start_ticks(pid) != plan["start_time"]:
        raise SetupError(f"process {pid} exited")
    last_cap = int(read_sysctl("kernel/cap_last_cap"))
    ns.setns(mnt_fd, ns.CLONE_NEWNS)
    os.close(mnt_fd)
    # here: mounting needs our capabilities, before the container's user namespace
    covered = cover_dev(dev_seen(plan, root_path, root_fd), plan.get("devpts_fd"))
    if covered and root_fd is not None:
        # the old descriptor is of the container's namespace, without our /dev
        os.close(root_fd)
        root_fd = os.open(root_path, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
    if groups is None:
        # no setgroups inside: the same groups, by their host numbers, from here
        os.setgroups([int(g) for g in plan["host_groups"]])
    for kind in JOIN_ORDER:
        if kind in namespace_fds:
            ns.setns(namespace_fds.pop(kind), ns.NAMESPACE_FLAGS[kind])
    if "user" in namespace_fds:
        ns.setns(namespace_fds.pop("user"), ns.CLONE_NEWUSER)
    # chroot only now: joining a user namespace fails in a chrooted process
    if root_fd is not None:
        os.fchdir(root_fd)
        os.chroot(".")
        os.close(root_fd)
    elif plan["chroot"]:
        os.chroot(plan["chroot"])
    os.chdir("/")
    if plan["keep_capabilities"] is not None:
        limit_capabilities(int(plan["keep_capabilities"]), last_cap)
    set_identity(int(plan["uid"]), int(plan["gid"]), groups)


def forward_signals(command_pidfd: int) -> None:
    def forward(signal_number: int, _frame: object) -> None:
        with suppress(ProcessLookupError):  # it has exited: the reaper is ending
            signal.pidfd_send_signal(command_pidfd, signal_number)

    for signal_number in FORWARDED_SIGNALS:
        signal.signal(signal_number, forward)


def supervise(started: reaper_process.StartedCommand, channel: socket.socket) -> int:
    """Wait for the reaper (it exits with the command's status); if the caller goes
    away, close the link: the reaper ends everything."""
    reaper_pidfd = os.pidfd_open(started.reaper)
    watched = [reaper_pidfd, channel.fileno()]
    while True:
        try:
            ready, _, _ = select.select(watched, [], [])
        except InterruptedError:
            continue
        if reaper_pidfd in ready:
            _, status = os.waitpid(started.reaper, 0)
            if os.WIFSIGNALED(status):
                # the reaper was killed: its command died with it (parent-death
                # signal); end the command's process group too
                reaper_process.kill_group(started.command)
            return reaper_process.exit_code(status)
        with suppress(OSError):  # the caller is gone, as when the channel is closed
            if channel.recv(64):
                continue
        started.link.close()
        watched = [reaper_pidfd]


def receive_plan(channel: socket.socket) -> tuple[dict[str, Any], list[int]]:
    """The plan and the descriptors sent with it (O_CLOEXEC here)."""
    message, ancillary, flags, _ = channel.recvmsg(
        1 << 20, socket.CMSG_SPACE(4 * MAX_RECEIVED_FDS), socket.MSG_CMSG_CLOEXEC
    )
    received: list[int] = []
    for level, kind, data in ancillary:
        if level == socket.SOL_SOCKET and kind == socket.SCM_RIGHTS:
            usable = len(data) - len(data) % 4
            received += [
                int.from_bytes(data[i : i + 4], sys.byteorder) for i in range(0, usable, 4)
            ]
    if not message:  # the caller closed the channel (an unused spare): nothing to do
        os._exit(0)
    if flags & socket.MSG_CTRUNC:
        os._exit(SETUP_FAILED)
    return marshal.loads(message), received


def install(channel: socket.socket, received: list[int], targets: list[int]) -> socket.socket:
    """Put each received descriptor at its target number (stdio 0-2 inheritable, the
    others O_CLOEXEC); returns the channel, moved out of their way."""
    if len(received) != len(targets):
        os._exit(SETUP_FAILED)
    # first every descriptor we hold above the targets, so that no dup2 closes one
    above = max(targets, default=2) + 1
    moved = [fcntl.fcntl(fd, fcntl.F_DUPFD_CLOEXEC, above) for fd in received]
    moved_channel = fcntl.fcntl(channel.fileno(), fcntl.F_DUPFD_CLOEXEC, above)
    for fd in received:
        os.close(fd)
    channel.close()
    for fd, target in zip(moved, targets, strict=True):
        os.dup2(fd, target, inheritable=target <= 2)
        os.close(fd)
    return socket.socket(fileno=moved_channel)


def failure(error: OSError) -> str:
    """One line for an error of a step: the path when it has one, the message once
    (ours already name their call: "setns: Operation not permitted")."""
    text = error.strerror or str(error)
    return f"{error.filename}: {text}" if error.filename else text


def main() -> None:
    channel = socket.socket(fileno=int(sys.argv[1]))
    plan, received = receive_plan(channel)
    if plan.get("install") is not None:
        channel = install(channel, received, plan["install"])
    else:
        for fd in received:
            os.close(fd)
    # Popen's pass_fds made these inheritable: the reaper inherits them by fork, and
    # keeps the hold until everything it ends is gone; only the command's exec keeps
    # pass_fds (reaper_process.py)
    os.set_inheritable(channel.fileno(), False)
    if plan["hold_fd"] is not None:
        os.set_inheritable(plan["hold_fd"], False)
    for fd in plan["pass_fds"]:
        os.set_inheritable(fd, False)
    try:
        try:
            enter(plan)
        finally:
            if plan.get("devpts_fd") is not None:  # mounted now, or not to be
                os.close(plan["devpts_fd"])
        started = reaper_process.start(plan, close_in_reaper=[channel.fileno()])
    except (SetupError, reaper_process.StartError) as error:
        channel.send(marshal.dumps({"error": str(error), "code": error.code}))
        sys.exit(error.code)
    except OSError as error:
        message = f"cannot enter the container: {failure(error)}"
        channel.send(marshal.dumps({"error": message}))
        sys.exit(SETUP_FAILED)
    for fd in plan["pass_fds"]:
        reaper_process.close_quietly(fd)
    forward_signals(started.command_pidfd)  # before the caller may send any
    with suppress(OSError):  # the caller is gone: supervise ends it all
        channel.send(marshal.dumps({"started": started.command}))
    os._exit(supervise(started, channel))


if __name__ == "__main__":
    main()
