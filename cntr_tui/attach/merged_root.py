"""A session's hold on its container's merged root, from the session's side: connect
to the file server of (container, fs mode) on its unix socket, starting the server
(`cntr_tui.fs.server_process`) when none runs; release the hold again.

The connection is the hold: the server tears the merged root down once the last one
closes. Starts are serialised by one lock file, so two sessions never start two
servers for one root.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import socket
from dataclasses import dataclass
from typing import Any

from cntr_tui.attach import spare_server
from cntr_tui.attach.spare_server import RUN_DIR
from cntr_tui.errors import UserError
from cntr_tui.linux.pidfd import wait_gone
from cntr_tui.linux.proc_stat import start_ticks

SERVER_START_TIMEOUT = 20.0
TEARDOWN_TIMEOUT = 8.0


@dataclass(frozen=True)
class RootInfo:
    """The merged root a session holds: its processes and FUSE connection id."""

    holder: int
    server: int
    connection: int | None
    mode: str


def existing_start_ticks(pid: int) -> int:
    ticks = start_ticks(pid)
    if ticks is None:
        raise UserError(f"process {pid} does not exist")
    return ticks


def receive_line(sock: socket.socket, timeout: float) -> bytes:
    sock.settimeout(timeout)
    data = b""
    while not data.endswith(b"\n"):
        chunk = sock.recv(4096)
        if not chunk:
            break
        data += chunk
    sock.settimeout(None)
    return data


def connect_root(path: str) -> tuple[socket.socket, dict[str, Any]] | None:
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM | socket.SOCK_CLOEXEC)
    try:
        sock.connect(path)
        line = receive_line(sock, 5.0)
        if line:
            return sock, json.loads(line)
    except (OSError, ValueError):
        pass
    sock.close()
    return None


def start_server(pid: int, ticks: int, mode: str, path: str) -> None:
    """Start the file server of (pid, mode) on `path`: forked by the resident agent
    when one runs (its imports are done), else a new one (`spare_server.server`)."""
    server = spare_server.server(
        [
            f"--pid={pid}",
            f"--start-time={ticks}",
            f"--mode={mode}",
            f"--socket={path}",
            f"--log={path.removesuffix('.sock')}.log",
        ]
    )
    line = server.ready_line(SERVER_START_TIMEOUT)
    try:
        message = json.loads(line) if line else {"error": "the file server did not start"}
    except ValueError:
        message = {"error": f"the file server said {line[:80]!r}"}
    if "error" in message:
        server.wait(5)
        raise UserError(str(message["error"]))


def acquire_root(pid: int, mode: str) -> tuple[socket.socket, RootInfo]:
    """Join the container's merged root, starting its server if none runs."""
    os.makedirs(RUN_DIR, mode=0o700, exist_ok=True)
    ticks = existing_start_ticks(pid)
    key = f"{pid}-{ticks}-{mode}"
    path = os.path.join(RUN_DIR, f"{key}.sock")
    for _attempt in range(3):
        connected = connect_root(path)
        if connected is None:
            # one lock file for every start: per-container lock files would pile up
            lock_path = os.path.join(RUN_DIR, "start.lock")
            lock = os.open(lock_path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
            try:
                fcntl.flock(lock, fcntl.LOCK_EX)
                connected = connect_root(path)
                if connected is None:
                    start_server(pid, ticks, mode, path)
                    connected = connect_root(path)
            finally:
                os.close(lock)
        if connected is not None:
            sock, info = connected
            return sock, RootInfo(
                holder=int(info["holder"]),
                server=int(info["server"]),
                connection=info.get("connection"),
                mode=str(info["mode"]),
            )
    raise UserError(f"could not reach the file server for process {pid}")


def release_root(hold: socket.socket, root: RootInfo) -> None:
    """Give the hold back; if it was the last one, wait (a few seconds at most) until
    the file server has exited and the mounts are gone."""
    last = False
    with contextlib.suppress(OSError):
        hold.sendall(b"release\n")
        last = receive_line(hold, 5.0).strip() == b"last"
    hold.close()
    if last:
        wait_gone(root.server, TEARDOWN_TIMEOUT)
