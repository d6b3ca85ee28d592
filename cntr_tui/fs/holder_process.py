"""The holder: the process whose mount namespace is the merged root.

Started by: the file server (`server_process.start_holder`), forked before any thread
exists; it never execs.
Runs in: a private copy of the container's mount namespace, which it takes by
`mountapi.clone_container_tree` (other namespaces: the host's). There it builds the
layout (the FUSE mount or a clone of the host's tree at `/`, the container at
`/var/lib/cntr`, the container's files bound over; see `mountapi`), reports on its
channel, and then just stays alive: sessions join its mount namespace, so the merged
root and its page cache outlive any one session. It exits when the server closes the
channel.
Never: start a thread or touch trio (the setns/unshare calls need a single thread);
keep `/dev/fuse` open (only the server may hold it); serve a FUSE request itself (it
would wait for its own answer).
"""

from __future__ import annotations

import contextlib
import os
import socket
from dataclasses import dataclass

from cntr_tui.fs import mountapi
from cntr_tui.fs.channel import receive, send


@dataclass(frozen=True)
class HolderPlan:
    mode: str
    mnt_namespace_fd: int
    root_fd: int
    dev_fuse_fd: int | None
    host_tree_fd: int | None


def holder_main(plan: HolderPlan, server: socket.socket) -> None:
    """Build the layout, report, then hold it until the server closes the channel."""
    try:
        container_tree = mountapi.clone_container_tree(plan.mnt_namespace_fd, plan.root_fd)
        os.close(plan.mnt_namespace_fd)
        os.close(plan.root_fd)
        if plan.mode == "fuse":
            assert plan.dev_fuse_fd is not None
            fat_root = mountapi.fuse_mount(plan.dev_fuse_fd)
            os.close(plan.dev_fuse_fd)  # only the server may hold /dev/fuse
            send(server, step="mounted")
            if receive(server) != {"step": "serve"}:
                os._exit(1)
        else:
            assert plan.host_tree_fd is not None
            fat_root = plan.host_tree_fd
        mountapi.install_root(fat_root, container_tree)
        os.close(fat_root)
        os.close(container_tree)
        bound = mountapi.bind_container_files()
        send(server, step="ready", bound=bound)
    except OSError as error:
        with contextlib.suppress(OSError):
            send(server, step="error", error=f"building the merged root: {error.strerror or error}")
        os._exit(1)
    while True:
        try:
            if not server.recv(16):
                break
        except InterruptedError:
            continue
        except OSError:
            break
    os._exit(0)
