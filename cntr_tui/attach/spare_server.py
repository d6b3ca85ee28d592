"""Where a merged root's file server process comes from: the resident agent, or a
Python started here.

A cold attach waits for the merged root's file server (`cntr_tui.fs.server_process`):
a Python that imports trio, pyfuse3 and the merged root's operations (~100-170 ms of
CPU here) before it can fork its holder and mount. The resident agent
(`agent_process.py`) keeps those imports done and forks a server on request; it is
started on first use, right after the CLI's parse (`start`), and imports at idle
priority while the command imports and looks the container up. `merged_root.start_server`
asks for a server (`server`): the agent's, else (no agent: switched off, not up yet,
killed, stale) a Python started here and given the server's arguments on its stdin;
either way it reads the server's ready line, as it would of a server it had just
started.

    start(word)        # the CLI after its parse, for attach/gdb (root, /dev/fuse only)
    stop_started()     # the CLI, when that command then failed (UserError)
    server(argv)       # start_server: a server, with .ready_line() and .wait()

A server started here has its command line rewritten (`retitle`, over a padding
argument) to the server's own (`python -m cntr_tui.fs.server_process --pid=...`), as
has one the agent forked, so `ps` and the tests' leftover checks see the server they
look for. The server ends with `os._exit` once `server_process.main` has returned (its
holder and watchdog reaped, its log flushed): the interpreter's teardown of trio,
pyfuse3 and their threads cost every last session's close ~20-35 ms, freeing nothing.

This module is imported by the CLI right after its parse: on the starter's side it
imports only what a Popen needs (the command imports it anyway).
"""

from __future__ import annotations

import contextlib
import os
import select
import subprocess
import sys

from cntr_tui.attach import agent_client
from cntr_tui.attach.agent_client import TITLE_ROOM
from cntr_tui.linux.pidfd import wait_gone
from cntr_tui.linux.proc_stat import start_ticks
from cntr_tui.settings import Settings

RUN_DIR = "/run/cntr-tui"  # the servers' sockets (merged_root)
LOOKUP_DIR = f"{RUN_DIR}/lookup"  # lookup_cache.CACHE_DIR
SERVER_MODULE = "cntr_tui.fs.server_process"
START_TIMEOUT = 20.0


class SpareServer:
    """A file server process started here (a Popen: one that outlives us is reaped as
    Popen reaps) waiting for its arguments on its stdin; its ready line comes on its
    stdout."""

    def __init__(self, process: subprocess.Popen[bytes]) -> None:
        self.process = process
        self.pid = process.pid

    @classmethod
    def spawn(cls) -> SpareServer:
        code = f"from {__name__} import main; main()"
        process = subprocess.Popen(
            [sys.executable, "-c", code, SERVER_MODULE, "spare", " " * TITLE_ROOM],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            start_new_session=True,  # as the server is: out of our terminal's signals
        )
        return cls(process)

    def begin(self, argv: list[str]) -> bool:
        """Give it the server's arguments; False if it is gone (start another)."""
        import json

        stdin = self.process.stdin
        assert stdin is not None
        try:
            stdin.write(json.dumps(argv).encode() + b"\n")
            stdin.close()
        except OSError:
            self.end()
            return False
        return True

    def ready_line(self, timeout: float = START_TIMEOUT) -> bytes:
        """Its first line on stdout (b"" if none came in time); our end is closed then.
        Not waited for: the server outlives the session that started it."""
        stdout = self.process.stdout
        assert stdout is not None
        try:
            ready, _, _ = select.select([stdout], [], [], timeout)
            return stdout.readline() if ready else b""
        finally:
            stdout.close()

    def wait(self, timeout: float) -> None:
        """Wait (up to `timeout` seconds) until it has exited (after an error)."""
        wait_gone(self.pid, timeout)

    def end(self) -> None:
        """Kill and reap one that was never given its arguments (or failed)."""
        for stream in (self.process.stdin, self.process.stdout):
            if stream is not None:
                with contextlib.suppress(OSError):
                    stream.close()
        if self.process.returncode is None:
            with contextlib.suppress(ProcessLookupError):
                self.process.kill()
        self.process.wait()


def attach_available() -> bool:
    return os.geteuid() == 0 and os.path.exists("/dev/fuse")


def start(word: str, mode: str = "fuse") -> bool:
    """Start the resident agent for an attach to `word`, unless it runs (or is switched
    off, or we are not root, or that container's merged root looks up already); True
    if this call started it (`stop_started` ends it again after a bad word)."""
    if not attach_available():
        return False
    address = agent_client.agent_address(Settings.from_environment())
    if address is None or root_likely_up(word, mode):
        return False
    return agent_client.ensure_started(address)


def stop_started() -> None:
    """End the agent `start` began for a command that then failed on its input (a word
    that names no container): bad input leaves no process of ours behind."""
    address = agent_client.agent_address(Settings.from_environment())
    if address is not None:
        agent_client.stop(address)


def root_likely_up(word: str, mode: str) -> bool:
    """Whether the merged root of the container `word` names seems to be up: `word`
    as a PID, or the PID look-up remembered for it (`lookup_cache`'s entries, read
    unchecked: a wrong guess only costs a start without a spare, or a spare unused),
    has a server socket (`merged_root`'s PID-TICKS-MODE.sock)."""
    import json

    pids = [int(word)] if word.isdigit() else []
    suffix = f"={word.encode().hex()}.json"
    try:
        names = [name for name in os.listdir(LOOKUP_DIR) if name.endswith(suffix)]
    except OSError:
        names = []
    for name in names:
        try:
            with open(os.path.join(LOOKUP_DIR, name), "rb") as file:
                pids.append(int(json.load(file)["container"]["pid"]))
        except (OSError, ValueError, KeyError, TypeError):
            continue
    for pid in pids:
        ticks = start_ticks(pid)
        if ticks is not None and os.path.exists(f"{RUN_DIR}/{pid}-{ticks}-{mode}.sock"):
            return True
    return False


def server(argv: list[str]) -> agent_client.AgentServer | SpareServer:
    """A file server for `argv`: the agent's if one runs, else one started here (and the
    agent, for the next command)."""
    address = agent_client.agent_address(Settings.from_environment())
    if address is not None:
        forked = agent_client.request_server(address, argv)
        if forked is not None:
            return forked
        agent_client.ensure_started(address)
    fresh = SpareServer.spawn()
    if not fresh.begin(argv):
        from cntr_tui.errors import UserError

        raise UserError("the file server did not start")
    return fresh


# ---- the server's own side -------------------------------------------------------------


def retitle(words: list[str]) -> None:
    """Write `words` over this process's command line (what /proc/PID/cmdline shows),
    NUL-separated, padded with NULs; cut at the room the command line has (its
    padding argument makes room; PR_SET_MM, which could move it, needs
    CAP_SYS_RESOURCE, which root lacks on some machines)."""
    import ctypes

    with open("/proc/self/stat", "rb") as file:
        fields = file.read().rpartition(b")")[2].split()
    start, end = int(fields[45]), int(fields[46])  # arg_start, arg_end: (48), (49)
    room = end - start
    if start <= 0 or room <= 1:
        return
    text = b"\0".join(word.encode() for word in words)[: room - 1]
    ctypes.memmove(start, text.ljust(room, b"\0"), room)


def main() -> None:
    """A server started here: import what it needs, wait for its arguments, serve."""
    import json

    # with what the server imports once it runs (Server.run, serve_fuse)
    import pyfuse3  # noqa: F401

    from cntr_tui.fs import fastloop, merged, server_process  # noqa: F401

    line = sys.stdin.buffer.readline()
    if not line:  # our starter is gone, or did not need us
        os._exit(0)
    null = os.open(os.devnull, os.O_RDONLY | os.O_CLOEXEC)
    os.dup2(null, 0)
    os.close(null)
    serve([str(word) for word in json.loads(line)])


def serve(argv: list[str]) -> None:
    """Be the file server for `argv` (stdout: where its ready line goes); never returns."""
    import logging

    from cntr_tui.fs import server_process

    retitle([sys.executable, "-m", SERVER_MODULE, *argv])
    code: object = 0
    try:
        server_process.main(argv)
    except SystemExit as exit_:
        code = exit_.code
    except Exception:
        server_process.log.exception("the server failed")
        code = 1
    logging.shutdown()
    sys.stdout.flush()
    os._exit(code if isinstance(code, int) else (0 if code is None else 1))
