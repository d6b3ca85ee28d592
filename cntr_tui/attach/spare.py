"""Spare attach helpers: started before we know the container or the command.

A session command waits for its helper's Python to start (~20-25 ms of CPU, more when
the caller is busy importing on the same cores). A spare is that helper started early
(`python -S ... helper CHANNEL_FD`, stdio /dev/null), waiting on its channel for the
plan; `AttachSession.spawn(..., spare=spare)` uses it: joins it to the container's
cgroups, then sends the plan with the command's stdio, the merged root's hold and the
`pass_fds` as SCM_RIGHTS descriptors, which the helper installs at the numbers the plan
names before it enters the container (see helper_process.py).

    with spare_helpers(2) as spares:        # empty without root or /dev/fuse
        ...                                 # look-ups, imports
        session.spawn(argv, spare=spares[0])
    # unused spares are ended (killed and reaped) here

A spare is used once (`take`); `close` ends one never taken (its helper is waiting for
a plan: it is killed and reaped) and does nothing to one taken. If its owner dies, the
channel closes and the waiting helper exits.

This module is imported by `cntr-tui gdb` right after argument parsing: it imports only
what starting a Popen needs.
"""

from __future__ import annotations

import os
import socket
import subprocess
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import IO, Any

from cntr_tui.python_command import module_main_command

HELPER_COMMAND = module_main_command("cntr_tui.attach.helper_process")

StdioArg = int | IO[Any] | None


class SessionProcess(subprocess.Popen[bytes]):
    """A Popen of the helper; `command_pid` is the command's host PID."""

    command_pid: int = 0


def attach_available() -> bool:
    """Whether this process can start attach sessions at all (root, FUSE)."""
    return os.geteuid() == 0 and os.path.exists("/dev/fuse")


def start_helper(
    channel: socket.socket,
    stdin: StdioArg = None,
    stdout: StdioArg = None,
    stderr: StdioArg = None,
    pass_fds: Sequence[int] = (),
    own_session: bool = False,
) -> SessionProcess:
    """A helper process reading its plan on `channel` (our end is the caller's).
    `own_session`: outside our session and process group, so that our terminal's
    signals (SIGHUP when it closes, SIGINT) are not forwarded to its command."""
    return SessionProcess(
        [*HELPER_COMMAND, str(channel.fileno())],
        stdin=stdin,
        stdout=stdout,
        stderr=stderr,
        pass_fds=[channel.fileno(), *pass_fds],
        start_new_session=own_session,
    )


def seqpacket_pair() -> tuple[socket.socket, socket.socket]:
    return socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET | socket.SOCK_CLOEXEC)


class SpareHelper:
    """A helper waiting for a plan on `channel` (ours; O_CLOEXEC)."""

    def __init__(self, process: SessionProcess, channel: socket.socket) -> None:
        self.process = process
        self.channel = channel
        self._lock = threading.Lock()
        self._available = True
        self.joined: tuple[str, ...] = ()  # the cgroup.procs files it was moved into

    @classmethod
    def start(cls) -> SpareHelper:
        ours, theirs = seqpacket_pair()
        try:
            null = subprocess.DEVNULL
            # spares serve gdb and gdbserver, which our terminal's signals must not reach
            process = start_helper(theirs, null, null, null, own_session=True)
        except BaseException:
            ours.close()
            raise
        finally:
            theirs.close()
        # its start takes only idle CPU: the caller, busy importing and looking the
        # container up meanwhile, keeps its cores (take() restores the normal policy)
        os.sched_setscheduler(process.pid, os.SCHED_IDLE, os.sched_param(0))
        return cls(process, ours)

    def take(self) -> tuple[SessionProcess, socket.socket] | None:
        """The helper and our end of its channel, once; None when taken or closed (or its
        helper is gone): the caller then starts a helper of its own."""
        with self._lock:
            if not self._available or self.process.poll() is not None:
                self._end()
                return None
            self._available = False
            os.sched_setscheduler(self.process.pid, os.SCHED_OTHER, os.sched_param(0))
            return self.process, self.channel

    def close(self) -> None:
        """End the helper if it was never taken: killed (it waits for its plan) and
        reaped. Idempotent; nothing happens to a taken one."""
        with self._lock:
            self._end()

    def _end(self) -> None:
        if not self._available:
            return
        self._available = False
        self.channel.close()
        if self.process.returncode is None:
            self.process.kill()
        self.process.wait()


def join_cgroups_early(spares: Sequence[SpareHelper], pid: int) -> threading.Thread:
    """Move the waiting `spares` into the cgroups of container process `pid` from a
    thread, started now: a cgroup move sleeps through an RCU grace period (~10-20 ms),
    which thus passes while the caller opens its session. `join()` the thread before a
    spare is used; a spare left out (a failed move: its spawn moves it and reports
    why) keeps `joined` empty."""
    from cntr_tui.attach.cgroups import cgroup_procs_files, join_cgroups
    from cntr_tui.errors import UserError

    def join() -> None:
        try:
            files = cgroup_procs_files(pid)
        except (OSError, UserError):
            return
        for spare in spares:
            try:
                join_cgroups(spare.process.pid, files)
            except UserError:
                return
            spare.joined = tuple(files)

    thread = threading.Thread(target=join, name="cntr-tui-cgroups", daemon=True)
    thread.start()
    return thread


@contextmanager
def spare_helpers(count: int) -> Iterator[list[SpareHelper]]:
    """`count` spares (none when this process cannot attach); those never taken are
    ended on exit, whatever happened."""
    spares: list[SpareHelper] = []
    try:
        if count > 0 and attach_available():
            for _ in range(count):
                spares.append(SpareHelper.start())
        yield spares
    finally:
        for spare in spares:
            spare.close()
