"""The watchdog: aborts a FUSE connection that stops answering, so callers get
ENOTCONN instead of hanging in D state.

Started by: the file server (`server_process.main`, fuse mode only), forked before
any thread exists; it never execs.
Runs in: the host's namespaces. Every second it probes the connection with a LOOKUP
through `/proc/HOLDER/root` (from a forked child, which may hang in its place); if a
probe is not answered within the deadline, or the server goes away (its channel
closes), it aborts the connection through fusectl (mounted in a throwaway mount
namespace) and kills a stopped server.
Never: touch the mount point itself (a request nobody serves would hang the watchdog);
start threads or trio.
"""

from __future__ import annotations

import contextlib
import logging
import os
import select
import signal
import socket

from cntr_tui.fs.channel import receive
from cntr_tui.fs.fuse_connection import abort_connection
from cntr_tui.linux.pidfd import wait_exit
from cntr_tui.linux.procfs import exists_in_root

log = logging.getLogger(__name__)

PROBE_INTERVAL = 1.0


def probe(holder: int, deadline: float, serial: int) -> bool:
    """Ask the file server one LOOKUP through the holder's root; True if answered in time."""
    pid = os.fork()
    if pid == 0:
        exists_in_root(holder, f"/.cntr-tui-watchdog-{serial}")  # one LOOKUP to answer
        os._exit(0)
    pidfd = os.pidfd_open(pid)
    try:
        ready = wait_exit(pidfd, deadline)
    finally:
        os.close(pidfd)
    if ready:
        os.waitpid(pid, 0)
        return True
    return False  # the probe child is reaped after the abort frees it


def remove_dead_socket(path: str) -> None:
    """Unlink `path` if no server listens on it (a killed server cannot clean up)."""
    probe_socket = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM | socket.SOCK_CLOEXEC)
    try:
        probe_socket.connect(path)
    except ConnectionRefusedError:
        with contextlib.suppress(OSError):
            os.unlink(path)
    except OSError:
        pass
    finally:
        probe_socket.close()


def watchdog_main(
    server_pid: int, server: socket.socket, deadline: float, socket_path: str
) -> None:
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    info = None
    with contextlib.suppress(OSError):
        info = receive(server)
    if not info or info.get("connection") is None:
        os._exit(0)
    holder = int(info["holder"])  # type: ignore[arg-type]
    connection = int(info["connection"])  # type: ignore[arg-type]
    serial = 0
    while True:
        ready, _, _ = select.select([server], [], [], PROBE_INTERVAL)
        if ready:
            with contextlib.suppress(OSError):
                if server.recv(16):
                    continue
            # The server closed its end: it is done or dead. A dead server's connection
            # is aborted by the kernel already; aborting twice is harmless.
            abort_connection(connection)
            remove_dead_socket(socket_path)
            break
        serial += 1
        if not probe(holder, deadline, serial):
            log.warning("FUSE server %d did not answer in %.1fs: aborting", server_pid, deadline)
            abort_connection(connection)
            with contextlib.suppress(ProcessLookupError):
                os.kill(server_pid, signal.SIGKILL)
            with contextlib.suppress(OSError):
                os.unlink(socket_path)  # nobody answers on it any more
            break
    with contextlib.suppress(ChildProcessError):
        while os.waitpid(-1, 0):
            pass
    os._exit(0)
