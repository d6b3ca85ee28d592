"""Messages between the file server and the children it forks (holder, watchdog):
one JSON object per datagram on a SOCK_SEQPACKET socketpair."""

from __future__ import annotations

import json
import socket


def send(sock: socket.socket, **message: object) -> None:
    sock.send(json.dumps(message).encode())


def receive(sock: socket.socket) -> dict[str, object] | None:
    data = sock.recv(65536)
    return json.loads(data) if data else None


def channel() -> tuple[socket.socket, socket.socket]:
    return socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET | socket.SOCK_CLOEXEC)
