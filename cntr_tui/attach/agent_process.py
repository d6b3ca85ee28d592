"""The resident agent's process: a file-server zygote, one per machine (and install).

Started by: the first command that may start a merged root (`agent_client.ensure_started`),
as `python -c "from cntr_tui.attach.agent_process import main; main()" FD`, in a session
of its own, FD its abstract socket (`agent_client.agent_address`), bound and listening
already (requests wait in its backlog meanwhile). Runs in: the host's namespaces, as
root, one thread only (it forks), cwd `/`. Never: enter a namespace, mount, start a
thread.

It imports what a file server needs, then serves one request per connection, from root
peers only
(SO_PEERCRED; anyone else gets an error and is closed):
  server  argv, env, umask and a pipe's write end (SCM_RIGHTS): forks twice; the
          grandchild, nobody's child and in a session of its own, answers its PID,
          takes the client's environment, umask and cgroup, and becomes the file server
          (`spare_server.serve`) with the pipe as its stdout, where its ready line goes.
  status  its PID, start time, servers forked, idle time left.
  stop    answers, then exits.
It holds no state: the servers it forked are their sessions', not its own, and go on
when it dies. It exits after `CNTR_TUI_AGENT_IDLE` seconds without a request, and
refuses and exits when a module it imported has changed on disk since (an upgrade or a
developer's edit: a command then starts its server itself, and a fresh agent). Its exit
leaves nothing: the abstract name goes with its socket.
"""

from __future__ import annotations

import contextlib
import json
import os
import select
import socket
import sys
import time
from typing import Any

from cntr_tui.attach.agent_client import MAX_MESSAGE, agent_address, peer_credentials
from cntr_tui.settings import Settings

MAX_FDS = 4
RECEIVE_TIMEOUT = 2.0  # a root client that connects and says nothing (ensure_started)


def modules_signature() -> tuple[tuple[str, int, int], ...]:
    """The files of the modules a server runs (ours, pyfuse3's, trio's package), with
    their mtimes and sizes."""
    found = []
    for name, module in list(sys.modules.items()):
        path = getattr(module, "__file__", None)
        if path and (name.startswith("cntr_tui") or name in ("pyfuse3", "trio")):
            try:
                info = os.stat(path)
                found.append((path, info.st_mtime_ns, info.st_size))
            except OSError:
                found.append((path, -1, -1))
    return tuple(sorted(found))


class Agent:
    def __init__(self, listener: socket.socket, settings: Settings) -> None:
        self.listener = listener
        self.idle = settings.agent_idle
        self.started = time.time()
        self.last_used = time.monotonic()
        self.served = 0
        self.signature = modules_signature()

    def run(self) -> None:
        """Serve until idle for too long, stopped, or stale."""
        while True:
            left = self.last_used + self.idle - time.monotonic()
            if left <= 0:
                return
            ready, _, _ = select.select([self.listener], [], [], left)
            if not ready:
                continue
            try:
                conn, _ = self.listener.accept()  # close-on-exec, as Python's accept makes it
            except OSError:
                continue
            with conn:
                try:
                    keep = self.handle(conn)
                except (OSError, ValueError, TypeError, KeyError, AttributeError):  # a bad one
                    keep = True
                if not keep:
                    return

    def handle(self, conn: socket.socket) -> bool:
        """One request; False when the agent must exit now."""
        pid, uid, _ = peer_credentials(conn)
        if uid != 0:
            with contextlib.suppress(OSError):
                conn.send(json.dumps({"error": "the agent serves root only"}).encode())
            return True
        conn.settimeout(RECEIVE_TIMEOUT)
        fds: list[int] = []
        try:
            data, fds, _, _ = socket.recv_fds(conn, MAX_MESSAGE, MAX_FDS, socket.MSG_CMSG_CLOEXEC)
            message = json.loads(data) if data else {}
        except (OSError, ValueError):
            message = {}
        if not isinstance(message, dict):
            message = {}
        try:
            return self.answer(conn, pid, message, fds)
        finally:
            for fd in fds:
                os.close(fd)

    def answer(
        self, conn: socket.socket, client: int, message: dict[str, Any], fds: list[int]
    ) -> bool:
        op = message.get("op")
        if op == "status":  # not a use: a status does not keep the agent up
            reply = {
                "pid": os.getpid(),
                "started": self.started,
                "served": self.served,
                "idle_exit": self.idle,
                "idle_left": round(self.last_used + self.idle - time.monotonic(), 1),
            }
            send(conn, reply)
            return True
        if op == "stop":
            send(conn, {"pid": os.getpid()})
            return False
        if op != "server" or len(fds) != 1:
            return True
        if modules_signature() != self.signature:
            send(conn, {"error": "stale: the agent's modules changed on disk"})
            return False
        self.last_used = time.monotonic()
        self.fork_server(conn, client, message, fds[0])
        self.served += 1
        return True

    def fork_server(
        self, conn: socket.socket, client: int, message: dict[str, Any], stdout_fd: int
    ) -> None:
        child = os.fork()
        if child == 0:
            code = 1
            try:
                os.setsid()
                if os.fork() == 0:
                    become_server(self.listener, conn, client, message, stdout_fd)
                code = 0
            finally:
                os._exit(code)
        os.waitpid(child, 0)


def send(conn: socket.socket, reply: dict[str, Any]) -> None:
    with contextlib.suppress(OSError):
        conn.send(json.dumps(reply).encode())


def join_cgroup_of(pid: int) -> None:
    """Move this process into the (v2) cgroup of `pid` when it is in another one, as a
    server the command had started itself would be."""
    try:
        with open(f"/proc/{pid}/cgroup", "rb") as file:
            theirs = file.read()
        with open("/proc/self/cgroup", "rb") as file:
            ours = file.read()
        if theirs == ours or not theirs.startswith(b"0::"):
            return
        path = theirs.split(b"\n")[0][3:].decode()
        with open(f"/sys/fs/cgroup{path}/cgroup.procs", "w") as procs:
            procs.write("0")
    except OSError:
        pass


def become_server(
    listener: socket.socket,
    conn: socket.socket,
    client: int,
    message: dict[str, Any],
    stdout_fd: int,
) -> None:
    """The grandchild: the client's file server, never returns."""
    code = 1
    try:
        listener.close()
        null = os.open(os.devnull, os.O_RDWR | os.O_CLOEXEC)
        os.dup2(null, 0)
        os.dup2(stdout_fd, 1)
        os.dup2(null, 2)
        os.close(null)
        os.close(stdout_fd)
        send(conn, {"server": os.getpid()})
        conn.close()
        os.environ.clear()
        os.environ.update({str(k): str(v) for k, v in dict(message.get("env") or {}).items()})
        os.umask(int(message.get("umask", 0o022)))
        with contextlib.suppress(OSError):
            os.sched_setscheduler(0, os.SCHED_OTHER, os.sched_param(0))
        join_cgroup_of(client)
        from cntr_tui.attach.spare_server import serve

        serve([str(word) for word in message["argv"]])  # ends the process
    finally:
        os._exit(code)


def main() -> None:
    """The agent, on the listening socket its starter made (fd in argv[1])."""
    settings = Settings.from_environment()
    listener = socket.socket(fileno=int(sys.argv[1]))
    os.set_inheritable(listener.fileno(), False)
    try:
        if agent_address(settings) != listener.getsockname() or os.geteuid() != 0:
            return  # not this install's agent's name
        # what a file server imports (as spare_server.main does)
        import pyfuse3

        from cntr_tui.attach import spare_server  # noqa: F401
        from cntr_tui.fs import fastloop, merged, server_process  # noqa: F401

        with contextlib.suppress(Exception):  # optional: read once here, for every server
            fastloop.elf_symbols(pyfuse3.__file__, fastloop.SYMBOLS)
        Agent(listener, settings).run()
    finally:
        listener.close()
        os._exit(0)
