"""Runs inside an attach session: holds host folders open for commands started there.

The host's files reach a session only through the merged root, whose file server may
die. This process receives O_PATH descriptors of host folders (SCM_RIGHTS, on its
stdin, a unix socket), answers one line with their numbers, and keeps them until the
socket closes. Meanwhile another command in the session (same user, same PID
namespace) names those folders as `/proc/KEEPER/fd/N/...`: what it maps from there
comes from the host's disk, not from the file server.

    python -S -c "...; from cntr_tui.gdb.keeper import main; main()"   # stdin: the socket

Only the standard library: this starts through the merged root on every gdb start.
"""

from __future__ import annotations

import os
import socket

MAX_FOLDERS = 8


def main() -> None:
    channel = socket.socket(fileno=0)
    _message, folders, _flags, _address = socket.recv_fds(channel, 16, MAX_FOLDERS)
    channel.sendall((" ".join(str(fd) for fd in folders) + "\n").encode())
    while True:
        try:
            if not channel.recv(64):
                break
        except InterruptedError:
            continue
        except OSError:
            break
    for fd in folders:
        os.close(fd)


if __name__ == "__main__":
    main()
