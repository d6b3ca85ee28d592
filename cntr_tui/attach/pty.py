"""Relay a fresh PTY to this process's terminal: raw mode, window resize, exit status.

The command gets its own PTY (never the caller's terminal: no TIOCSTI injection into
the host's); keys such as Ctrl-C and Ctrl-Z travel as bytes and the PTY's line
discipline turns them into signals for the command's foreground job.
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import os
import select
import signal
import struct
import subprocess
import sys
import termios
import threading
import tty
from collections.abc import Callable

CHUNK = 65536
TIOCSPTLCK = 0x40045431
TIOCGPTPEER = 0x5441

Spawn = Callable[[int, dict[str, str]], subprocess.Popen[bytes]]


def copy_window_size(source_fd: int, target_fd: int) -> None:
    with contextlib.suppress(OSError):
        size = fcntl.ioctl(source_fd, termios.TIOCGWINSZ, b"\0" * 8)
        fcntl.ioctl(target_fd, termios.TIOCSWINSZ, size)


def write_all(fd: int, data: bytes) -> None:
    while data:
        written = os.write(fd, data)
        data = data[written:]


def open_pty(root: str | None) -> tuple[int, int]:
    """A new PTY pair, on the devpts instance at `root`/dev/pts when it has one, else
    on the host's (which no session's /dev/pts shows: `open_terminal` in session.py
    gives a session's command a terminal it can name).

    With `root` = `/proc/PID/root` of a container with its own devpts (docker), the
    terminal belongs to it, so inside the session it is a `/dev/pts/N` that `tty` and
    `ttyname` can name.
    """
    if root is not None:
        try:
            master = os.open(f"{root}/dev/pts/ptmx", os.O_RDWR | os.O_NOCTTY | os.O_CLOEXEC)
        except OSError:
            return os.openpty()
        try:
            return master, peer(master)
        except OSError:
            os.close(master)
    return os.openpty()  # both non-inheritable (O_CLOEXEC)


def open_pty_on(devpts_fd: int) -> tuple[int, int]:
    """A new PTY pair on the devpts instance `devpts_fd` (a mount fd, detached or not)."""
    master = os.open("ptmx", os.O_RDWR | os.O_NOCTTY | os.O_CLOEXEC, dir_fd=devpts_fd)
    try:
        return master, peer(master)
    except BaseException:
        os.close(master)
        raise


def peer(master: int) -> int:
    """The unlocked slave of `master`, opened through the master's own devpts."""
    fcntl.ioctl(master, TIOCSPTLCK, struct.pack("i", 0))
    return fcntl.ioctl(master, TIOCGPTPEER, os.O_RDWR | os.O_NOCTTY | os.O_CLOEXEC)


def relay(
    spawn: Spawn,
    stdin: int | None = None,
    stdout: int | None = None,
    pts_root: str | None = None,
    pair: tuple[int, int] | None = None,
) -> int:
    """Start a command on a new PTY via `spawn(slave_fd, env)` and relay until it exits.
    The PTY: `pair` (master, slave; both closed here) or one from `open_pty(pts_root)`."""
    stdin = sys.stdin.fileno() if stdin is None else stdin
    stdout = sys.stdout.fileno() if stdout is None else stdout
    master, slave = pair if pair is not None else open_pty(pts_root)
    copy_window_size(stdin, slave)
    env = {"TERM": os.environ.get("TERM", "xterm")}
    try:
        command = spawn(slave, env)
    except BaseException:
        os.close(master)
        raise
    finally:
        os.close(slave)
    saved = termios.tcgetattr(stdin) if os.isatty(stdin) else None
    previous = None
    if threading.current_thread() is threading.main_thread():
        previous = signal.signal(signal.SIGWINCH, lambda *_: copy_window_size(stdin, master))
    pidfd = os.pidfd_open(command.pid)
    try:
        if saved is not None:
            tty.setraw(stdin, termios.TCSADRAIN)  # keep what was typed ahead
        pump(master, stdin, stdout, pidfd)
        return command.wait()
    finally:
        if saved is not None:
            with contextlib.suppress(termios.error):  # EIO: our terminal is gone (SIGHUP)
                termios.tcsetattr(stdin, termios.TCSAFLUSH, saved)
        if previous is not None:
            signal.signal(signal.SIGWINCH, previous)
        os.close(pidfd)
        os.close(master)


def pump(master: int, stdin: int, stdout: int, pidfd: int) -> None:
    """Copy between our terminal and the command's until the command ends, or until our
    terminal is gone (hung up: EIO on it), after which nothing is left to copy to."""
    watched = [master, stdin, pidfd]
    while True:
        try:
            ready, _, _ = select.select(watched, [], [])
        except InterruptedError:
            continue
        try:
            if master in ready:
                try:
                    data = os.read(master, CHUNK)
                except OSError as error:
                    if error.errno != errno.EIO:
                        raise
                    data = b""
                if not data:
                    return  # every holder of the slave closed it
                write_all(stdout, data)
            if stdin in ready:
                data = os.read(stdin, CHUNK)
                if data:
                    write_all(master, data)
                else:
                    watched.remove(stdin)
                    write_all(master, b"\x04")  # our stdin ended: end the command's input
            if pidfd in ready:
                drain(master, stdout)
                return
        except OSError as error:
            if error.errno != errno.EIO:
                raise
            return  # our terminal hung up (its SIGHUP's handler ends the command)


def drain(master: int, stdout: int) -> None:
    """Copy what the command wrote before it exited."""
    while True:
        ready, _, _ = select.select([master], [], [], 0)
        if not ready:
            return
        try:
            data = os.read(master, CHUNK)
        except OSError:
            return
        if not data:
            return
        with contextlib.suppress(OSError):  # EIO: our terminal is gone
            write_all(stdout, data)
