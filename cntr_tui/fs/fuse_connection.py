"""A FUSE connection seen from the host: its number, its read-ahead, and aborting it
through fusectl. Used by the file server and its watchdog (both single-threaded when
they fork)."""

from __future__ import annotations

import logging
import os

from cntr_tui.linux import syscalls as ns
from cntr_tui.linux.mountinfo import read_mountinfo

log = logging.getLogger(__name__)

FUSECTL_DIR = "/sys/fs/fuse/connections"


def abort_connection(connection: int) -> bool:
    """Abort FUSE connection `connection`; True if the abort file was written.

    fusectl is not mounted on the host: mount it in a throwaway mount namespace of a
    forked child, so the host's mount table is never touched.
    """
    pid = os.fork()
    if pid == 0:
        code = 1
        try:
            ns.unshare(ns.CLONE_NEWNS)
            ns.mount(None, "/", None, ns.MS_REC | ns.MS_PRIVATE)
            ns.mount("fusectl", FUSECTL_DIR, "fusectl", 0)
            with open(f"{FUSECTL_DIR}/{connection}/abort", "w") as file:
                file.write("1")
            code = 0
        except OSError:
            pass
        os._exit(code)
    _, status = os.waitpid(pid, 0)
    return os.waitstatus_to_exitcode(status) == 0


def set_read_ahead(connection: int, kib: int) -> None:
    """Raise the FUSE connection's read-ahead window (the kernel's default is 128 KiB).

    A sequential read then goes out as 1 MiB requests (libfuse's max_pages), several
    in flight, instead of one 128 KiB request per round trip.
    """
    try:
        with open(f"/sys/class/bdi/0:{connection}/read_ahead_kb", "w") as file:
            file.write(str(kib))
    except OSError as error:
        log.warning("cannot set the read-ahead of FUSE connection %d: %s", connection, error)


def connection_of(holder: int) -> int | None:
    """The number of the FUSE connection mounted at the holder's `/`, if any."""
    for mount in read_mountinfo(holder):
        if mount.mount_point == "/" and mount.is_fuse:
            return mount.minor
    return None
