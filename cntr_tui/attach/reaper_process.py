"""The reaper: the helper's child inside the container's PID namespace (as tini is).

Started by: the attach helper (`helper_process`, through `start`), forked after it has
joined every namespace of the container (no exec: a fork of a single-threaded
`python -S`); it forks the command in turn.
Runs in: all the container's namespaces, the PID namespace included (the helper's
setns(CLONE_NEWPID) applies to its children only), chrooted as the command will be.
Never: start a thread or import a module after the fork (the host's standard library
may be out of reach in the chroot; see the last paragraph); nothing beyond
what the helper has imported already.

A command run in a container leaves orphans there (gdb forks a child that outlives
it; `sh -c 'sleep 100 &'` leaves the sleep). The kernel hands orphans to the nearest
child subreaper in their own PID namespace, else to the namespace's init, which in
slim containers often never reaps them: zombies pile up under the container's PID 1.
The helper (host PID namespace) cannot be that subreaper, so it forks the reaper,
which is already inside the namespace (no new exec: a fork of a single-threaded
`python -S`). The reaper:
- marks itself child subreaper and forks the command (setsid, TIOCSCTTY when
  `plan["terminal"]`, signals reset, cwd, AppArmor exec label, execvpe);
- reaps every child; when the command exits, SIGKILLs its process group and every
  process left below the reaper (they were started by the session), reaps them, and
  exits with the command's status (128+N when killed by signal N);
- ends everything the same way (command included) when its link to the helper closes
  (the caller went away, or the helper died) or on SIGTERM.
It keeps the copy of the session's hold on the merged root it inherits (the helper's):
the file server's teardown SIGKILLs whatever is left in the merged mount namespace, and
must not catch the reaper before its work is done.

The command gets PR_SET_PDEATHSIG(SIGKILL): if the reaper itself is SIGKILLed, the
command dies with it (and the helper SIGKILLs the command's process group); what
else the command started is then handed to the container's init. Only someone who
can SIGKILL the reaper (root in the container, the OOM killer) can make that happen.

The helper learns the command's host PID from the command itself: before exec it sends
`READY` over a socket whose receiving end has SO_PASSCRED, so the kernel attaches its
PID translated into the helper's (host) PID namespace. The command then waits for `GO`,
so the helper's pidfd is known to name the command; on exec failure the command sends
`FAILED` + one line and exits 127; a successful exec closes the socket (O_CLOEXEC).

The descriptors of `plan["pass_fds"]` (the caller's, at the caller's numbers) are
O_CLOEXEC in the helper and the reaper, which close them once the command is forked
(the helper once it has exec'd); only the command's exec keeps them.

Every session command waits for a helper start: this module and the helper import
only C modules besides ctypes (`_socket` and `_signal`: the `socket` and `signal`
wrappers import enum, selectors, functools and collections, ~10 ms of each start).
"""

from __future__ import annotations

import _signal as signal
import _socket as socket
import ctypes
import fcntl
import os
import select
import sys
import termios
import warnings  # noqa: F401  os.execvpe imports it, once chrooted away from the stdlib

from cntr_tui.linux import syscalls as ns
from cntr_tui.linux.procfs import names_our_pids, own_children, set_exec_label

TYPE_CHECKING = False  # typing itself costs a helper start ~5 ms
if TYPE_CHECKING:
    from typing import Any, NoReturn

EXEC_FAILED = 127
SETUP_FAILED = 125
PR_SET_NAME = 15
PR_SET_CHILD_SUBREAPER = 36
REAPER_NAME = b"cntr-tui-reaper"  # its comm: what ps and the TUI's process tree show
READY = b"ready"
GO = b"go"
FAILED = b"!"  # followed by the one-line message
UCRED_SIZE = 12  # struct ucred: pid_t pid, uid_t uid, gid_t gid
# dispositions the helper (Python's defaults) and the reaper changed; ignored ones
# would survive exec
RESET_SIGNALS = (
    signal.SIGPIPE,
    signal.SIGXFSZ,
    signal.SIGINT,
    signal.SIGQUIT,
    signal.SIGHUP,
    signal.SIGTERM,
    signal.SIGCHLD,
)
# The caller's terminal sends these to its foreground group (helper and reaper
# included); the helper forwards them to the command, the reaper ignores them.
IGNORED_BY_REAPER = (signal.SIGINT, signal.SIGQUIT, signal.SIGHUP)

_libc = ctypes.CDLL("libc.so.6", use_errno=True)


class StartError(Exception):
    """The command did not start; the message is one line, `code` the exit status."""

    def __init__(self, message: str, code: int) -> None:
        super().__init__(message)
        self.code = code


class StartedCommand:
    """What the helper holds of a started command."""

    def __init__(self, reaper: int, command: int, command_pidfd: int, link: socket.socket):
        self.reaper = reaper  # host PID of the reaper (the helper's child)
        self.command = command  # host PID of the command
        self.command_pidfd = command_pidfd
        self.link = link  # closing it makes the reaper end everything


def exit_code(status: int) -> int:
    code = os.waitstatus_to_exitcode(status)
    return 128 - code if code < 0 else code


def seqpacket_pair() -> tuple[socket.socket, socket.socket]:
    return socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET | socket.SOCK_CLOEXEC)


class suppress:  # named as contextlib.suppress
    """contextlib.suppress without importing contextlib (~3 ms of each helper start)."""

    def __init__(self, *errors: type[BaseException]) -> None:
        self.errors = errors

    def __enter__(self) -> None:
        return None

    def __exit__(self, kind: type[BaseException] | None, *_details: object) -> bool:
        return kind is not None and issubclass(kind, self.errors)


def close_quietly(fd: int) -> None:
    with suppress(OSError):
        os.close(fd)


# ---- the helper's side -----------------------------------------------------------


def start(plan: dict[str, Any], close_in_reaper: list[int]) -> StartedCommand:
    """Fork the reaper (we are in the container's namespaces already), which forks the
    command; return once the command has exec'd. Raises StartError."""
    link, reaper_link = seqpacket_pair()
    starter, command_starter = seqpacket_pair()
    starter.setsockopt(socket.SOL_SOCKET, socket.SO_PASSCRED, 1)
    reaper = os.fork()
    if reaper == 0:
        try:
            link.close()
            starter.close()
            for fd in close_in_reaper:
                os.close(fd)
            Reaper(plan, reaper_link, command_starter).run()
        finally:
            os._exit(SETUP_FAILED)
    reaper_link.close()
    command_starter.close()
    try:
        command, pidfd = handshake(starter)
    except BaseException:
        link.close()  # the reaper ends whatever started
        os.waitpid(reaper, 0)
        raise
    finally:
        starter.close()
    return StartedCommand(reaper, command, pidfd, link)


def handshake(starter: socket.socket) -> tuple[int, int]:
    """The command's host PID and a pidfd on it, once it has exec'd."""
    message, ancillary, _flags, _address = starter.recvmsg(4096, socket.CMSG_SPACE(UCRED_SIZE))
    if message.startswith(FAILED):
        raise StartError(message[1:].decode(errors="replace"), EXEC_FAILED)
    pid = sender_pid(ancillary)
    if message != READY or pid is None:
        raise StartError("the command could not be started", SETUP_FAILED)
    try:
        pidfd = os.pidfd_open(pid)
    except ProcessLookupError:
        raise StartError("the command could not be started", SETUP_FAILED) from None
    try:
        starter.send(GO)
        failure = starter.recv(4096)  # empty: the exec closed the command's end
    except OSError:
        failure = FAILED + b"the command could not be started"
    if failure:
        os.close(pidfd)
        raise StartError(failure[1:].decode(errors="replace"), EXEC_FAILED)
    return pid, pidfd


def sender_pid(ancillary: list[tuple[int, int, bytes]]) -> int | None:
    for level, kind, data in ancillary:
        if level == socket.SOL_SOCKET and kind == socket.SCM_CREDENTIALS:
            pid = int.from_bytes(data[:4], sys.byteorder, signed=True)
            return pid if pid > 0 else None
    return None


# ---- the reaper, inside the container's PID namespace ----------------------------


class Reaper:
    def __init__(
        self, plan: dict[str, Any], link: socket.socket, command_starter: socket.socket
    ) -> None:
        self.plan = plan
        self.link = link
        self.command_starter = command_starter
        self.command = 0  # PID in the container's namespace
        self.command_status: int | None = None
        self.procfs_is_ours = names_our_pids()

    def run(self) -> NoReturn:
        if _libc.prctl(PR_SET_CHILD_SUBREAPER, ctypes.c_ulong(1), 0, 0, 0) != 0:
            os._exit(SETUP_FAILED)
        _libc.prctl(PR_SET_NAME, ctypes.c_char_p(REAPER_NAME), 0, 0, 0)
        for signal_number in IGNORED_BY_REAPER:
            signal.signal(signal_number, signal.SIG_IGN)
        # Python handlers only so that the signals reach the wakeup pipe
        signal.signal(signal.SIGCHLD, lambda *_: None)
        signal.signal(signal.SIGTERM, lambda *_: None)
        wakeup, wakeup_writer = os.pipe2(os.O_CLOEXEC | os.O_NONBLOCK)
        signal.set_wakeup_fd(wakeup_writer, warn_on_full_buffer=False)
        reaper_pid = os.getpid()
        self.command = os.fork()
        if self.command == 0:
            become_command(self.plan, self.command_starter, reaper_pid)
        self.command_starter.close()
        for fd in self.plan["pass_fds"]:
            close_quietly(fd)
        self.wait_for_command(wakeup)
        self.end_descendants()
        os._exit(exit_code(self.command_status) if self.command_status is not None else 137)

    def wait_for_command(self, wakeup: int) -> None:
        """Reap children until the command exits or we are told to end it."""
        while True:
            self.reap_exited()
            if self.command_status is not None:
                return
            try:
                ready, _, _ = select.select([wakeup, self.link], [], [])
            except InterruptedError:
                continue
            if wakeup in ready:
                with suppress(BlockingIOError):
                    if signal.SIGTERM in os.read(wakeup, 256):
                        return
            if self.link in ready:
                with suppress(OSError):
                    if self.link.recv(64):
                        continue
                return  # the helper closed the link or died

    def reap(self, pid: int) -> None:
        if pid == self.command:
            # its PID is still held (a zombie): the group cannot be someone else's yet
            kill_group(pid)
        _, status = os.waitpid(pid, 0)
        if pid == self.command:
            self.command_status = status

    def reap_exited(self) -> None:
        while True:
            try:
                exited = os.waitid(os.P_ALL, 0, os.WEXITED | os.WNOHANG | os.WNOWAIT)
            except ChildProcessError:
                return
            if exited is None:
                return
            self.reap(exited.si_pid)

    def end_descendants(self) -> None:
        """SIGKILL every process below us until none is left, reaping each."""
        if self.command_status is None:
            kill_group(self.command)
        while True:
            self.reap_exited()
            children = self.children()
            if not children or not any(send_kill(pid) for pid in children):
                return  # none left (or none we may signal: the container's init gets it)
            try:
                exited = os.waitid(os.P_ALL, 0, os.WEXITED | os.WNOWAIT)
            except ChildProcessError:
                return
            if exited is not None:
                self.reap(exited.si_pid)

    def children(self) -> list[int]:
        """Our children (orphans of the session are reparented to us); empty when /proc
        is not the container's own (then only the command's process group was killed)."""
        if not self.procfs_is_ours:
            return []
        try:
            return own_children()
        except (OSError, ValueError):
            return []


def kill_group(pgid: int) -> None:
    with suppress(OSError):
        os.killpg(pgid, signal.SIGKILL)


def send_kill(pid: int) -> bool:
    try:
        os.kill(pid, signal.SIGKILL)
    except ProcessLookupError:
        return True  # exiting already: it will be reaped
    except PermissionError:
        return False
    return True


# ---- the command, forked by the reaper -------------------------------------------


def become_command(plan: dict[str, Any], starter: socket.socket, reaper_pid: int) -> NoReturn:
    """In the reaper's child: become the command. Never returns."""
    argv = plan["argv"]
    try:
        ns.set_parent_death_signal(signal.SIGKILL)
        if os.getppid() != reaper_pid:  # the reaper died before the line above
            os._exit(EXEC_FAILED)
        signal.set_wakeup_fd(-1)
        os.setsid()
        if plan["terminal"]:
            fcntl.ioctl(0, termios.TIOCSCTTY, 0)
        for signal_number in RESET_SIGNALS:
            signal.signal(signal_number, signal.SIG_DFL)
        signal.pthread_sigmask(signal.SIG_SETMASK, [])
        if plan["apparmor"]:
            with suppress(OSError):
                set_exec_label(f"exec {plan['apparmor']}")
        try:
            os.chdir(plan["cwd"])
        except OSError:
            os.chdir("/")
        starter.send(READY)
        if starter.recv(16) != GO:
            os._exit(EXEC_FAILED)  # the helper is gone
        for fd in plan["pass_fds"]:
            os.set_inheritable(fd, True)
        os.execvpe(argv[0], argv, plan["env"])
    except OSError as error:
        message = f"{argv[0]}: {error.strerror}"
    except Exception as error:
        message = f"{argv[0]}: {error}"
    with suppress(OSError):
        starter.send(FAILED + message.encode())
    os._exit(EXEC_FAILED)
