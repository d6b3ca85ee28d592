"""The resident agent, from a command's side (the agent itself: `agent_process.py`).

The agent is a per-machine process that keeps a file server's Python imported (trio,
pyfuse3, the merged root's operations: 100-170 ms of a cold attach here) and forks a
ready server for each merged root a command starts, so a cold attach no longer waits
for those imports. It is started on first use (`ensure_started`, by the first command
that may start a merged root), exits after `CNTR_TUI_AGENT_IDLE` seconds unused, and
holds nothing a command needs: without it (`CNTR_TUI_AGENT=off`, not started yet,
killed, stale) a command starts its server itself, as before the agent.

Its address is an abstract unix socket (nothing on disk, gone when it dies) named after
this checkout and Python environment (`sys.prefix`, not the interpreter's path: a venv's
`python` and `python3`, which the `cntr-tui` script runs, are one install), so two
installs never share one; both ends check the other's SO_PEERCRED: the agent serves root
only, a command talks only to a root agent.

Imported by the CLI right after its parse: os, socket, json, struct and zlib only.
"""

from __future__ import annotations

import json
import os
import select
import socket
import struct
import subprocess
import sys
import zlib
from dataclasses import dataclass
from typing import Any

from cntr_tui.linux.pidfd import wait_gone
from cntr_tui.settings import Settings

AGENT_MODULE = "cntr_tui.attach.agent_process"
REQUEST_TIMEOUT = 5.0  # an agent that does not answer a request in time is not used
MAX_MESSAGE = 1 << 20
# bytes of padding in the command lines of processes that become file servers (the
# agent's, spare_server's): a server's own is written over it (spare_server.retitle)
TITLE_ROOM = 1024
AGENT_ENVIRONMENT = ("CNTR_TUI_AGENT", "CNTR_TUI_AGENT_IDLE", "PATH", "PYTHONPATH")


def agent_address(settings: Settings) -> bytes | None:
    """The agent's abstract socket address; None when the agent is switched off."""
    if settings.agent.lower() == "off":
        return None
    package = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    key = zlib.crc32(f"{package}\0{os.path.realpath(sys.prefix)}".encode())
    name = "" if settings.agent.lower() == "on" else f"-{settings.agent}"
    return f"\0cntr-tui-agent-{key:08x}{name}".encode()


def peer_credentials(sock: socket.socket) -> tuple[int, int, int]:
    """(pid, uid, gid) of the process at the other end of `sock`."""
    data = sock.getsockopt(socket.SOL_SOCKET, socket.SO_PEERCRED, struct.calcsize("3i"))
    pid, uid, gid = struct.unpack("3i", data)
    return pid, uid, gid


@dataclass
class AgentLink:
    """A connection to a root agent; `pid` is that of the process that made its socket
    listen (the command that started it, not the agent)."""

    sock: socket.socket
    pid: int

    def close(self) -> None:
        self.sock.close()


def connect(address: bytes) -> AgentLink | None:
    """A connection to the agent at `address`; None when none listens there, or when
    what listens is not root's."""
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET | socket.SOCK_CLOEXEC)
    try:
        sock.connect(address)
        pid, uid, _ = peer_credentials(sock)
    except OSError:
        sock.close()
        return None
    if uid != 0:
        sock.close()
        return None
    return AgentLink(sock, pid)


def exchange(
    link: AgentLink, message: dict[str, Any], fds: list[int] | None = None
) -> dict[str, Any] | None:
    """Send `message` (with `fds`), return the reply; None if the agent closed first."""
    try:
        link.sock.settimeout(REQUEST_TIMEOUT)
        socket.send_fds(link.sock, [json.dumps(message).encode()], fds or [])
        data = link.sock.recv(MAX_MESSAGE)
        return json.loads(data) if data else None
    except (OSError, ValueError):
        return None


def ensure_started(address: bytes) -> bool:
    """Start the agent at `address` unless one listens there; True if this call started
    it. Its socket is bound and listening here, before its Python starts (so a request
    of ours cannot miss it: it waits in the backlog until the agent's imports are
    done), then handed to it."""
    link = connect(address)
    if link is not None:
        link.close()
        return False
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET | socket.SOCK_CLOEXEC)
    try:
        listener.bind(address)
        listener.listen(64)
        spawn_agent(listener.fileno())
    except OSError:  # another command's agent took the name first, or no Python
        return False
    finally:
        listener.close()
    return True


def spawn_agent(listener_fd: int) -> None:
    """The agent's Python on `listener_fd`, in a session of its own, cwd `/`, nobody's
    child: `setsid --fork` forks it off and exits at once (waited for here), so the
    agent is no descendant of the command that started it (a caller that waits for its
    command's children, or counts them, does not meet it). Its environment is only what
    makes it this install's agent (the servers it forks get their command's). OSError
    if there is no setsid(1) or Python: the command then starts its server itself."""
    import shutil  # here, not at the top: shutil imports bz2 and lzma, off every command's path

    setsid = shutil.which("setsid")
    if setsid is None:
        raise FileNotFoundError("setsid")
    forker = subprocess.Popen(
        [
            setsid,
            "--fork",
            sys.executable,
            "-c",
            f"from {AGENT_MODULE} import main; main()",
            str(listener_fd),
            " " * TITLE_ROOM,  # the forked servers' command lines are written over it
        ],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        cwd="/",
        pass_fds=[listener_fd],
        env={name: os.environ[name] for name in AGENT_ENVIRONMENT if name in os.environ},
    )
    if forker.wait() != 0:
        raise OSError(f"setsid --fork exited {forker.returncode}")


class AgentServer:
    """A file server the agent forked for us: its ready line comes on our pipe."""

    def __init__(self, pid: int | None, ready_fd: int) -> None:
        self.pid = pid
        self.ready_fd = ready_fd

    def ready_line(self, timeout: float) -> bytes:
        """Its first line (b"" if none came in time); our end of the pipe is closed then."""
        data = b""
        try:
            while not data.endswith(b"\n"):
                ready, _, _ = select.select([self.ready_fd], [], [], timeout)
                chunk = os.read(self.ready_fd, 4096) if ready else b""
                if not chunk:
                    break
                data += chunk
        finally:
            os.close(self.ready_fd)
        return data.partition(b"\n")[0] + b"\n" if data else b""

    def wait(self, timeout: float) -> None:
        """Wait (up to `timeout` seconds) until it has exited (after an error)."""
        if self.pid is not None:
            wait_gone(self.pid, timeout)


def umask_now() -> int:
    """This process's umask, read without changing it (threads may be creating files)."""
    with open("/proc/self/status", "rb") as file:
        for line in file:
            if line.startswith(b"Umask:"):
                return int(line.split()[1], 8)
    return 0o022


def request_server(address: bytes, argv: list[str]) -> AgentServer | None:
    """A file server for `argv`, forked by the agent with our environment and umask;
    None when there is no agent (or it refuses, or dies before forking): the caller
    then starts a server itself."""
    link = connect(address)
    if link is None:
        return None
    read_fd, write_fd = os.pipe2(os.O_CLOEXEC)
    try:
        message = {"op": "server", "argv": argv, "env": dict(os.environ), "umask": umask_now()}
        reply = exchange(link, message, [write_fd])
    finally:
        os.close(write_fd)
        link.close()
    if reply is not None and isinstance(reply.get("server"), int):
        return AgentServer(reply["server"], read_fd)
    if reply is None and writer_alive(read_fd):
        # the agent died after forking: the server it forked holds the pipe still
        return AgentServer(None, read_fd)
    os.close(read_fd)
    return None


def writer_alive(read_fd: int) -> bool:
    """Whether some process still holds the write end of the pipe `read_fd` reads."""
    poller = select.poll()
    poller.register(read_fd, select.POLLIN | select.POLLHUP)
    events = poller.poll(0)
    if not events:
        return True  # no line yet, nor an end
    mask = events[0][1]
    return bool(mask & select.POLLIN) or not mask & select.POLLHUP


def status(address: bytes) -> dict[str, Any] | None:
    """The agent's own account of itself; None when none runs."""
    link = connect(address)
    if link is None:
        return None
    try:
        return exchange(link, {"op": "status"})
    finally:
        link.close()


def stop(address: bytes, timeout: float = 5.0) -> int | None:
    """Stop the agent and wait until it is gone; its PID, or None when none ran. File
    servers it forked are not its: they serve their sessions on."""
    link = connect(address)
    if link is None:
        return None
    try:
        reply = exchange(link, {"op": "stop"})
    finally:
        link.close()
    if reply is None or not isinstance(reply.get("pid"), int):
        return None
    wait_gone(reply["pid"], timeout)
    return int(reply["pid"])
