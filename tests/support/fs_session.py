"""A process spawned in an attach session with pipes, for the fs tests that talk to it
line by line: whatever happens, it is gone and its pipes are closed afterwards."""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import subprocess
from collections.abc import Iterator

from cntr_tui.attach import merged_root
from cntr_tui.attach.session import AttachSession
from cntr_tui.linux.proc_stat import start_ticks


@contextlib.contextmanager
def ended(proc: subprocess.Popen[bytes]) -> Iterator[subprocess.Popen[bytes]]:
    try:
        yield proc
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        for pipe in (proc.stdin, proc.stdout, proc.stderr):
            if pipe is not None:
                pipe.close()


@contextlib.contextmanager
def spawned(session: AttachSession, argv: list[str]) -> Iterator[subprocess.Popen[bytes]]:
    """`argv` in the session with its stdin, stdout and stderr piped, ended after."""
    pipe = subprocess.PIPE
    proc = session.spawn(argv, stdin=pipe, stdout=pipe, stderr=pipe)
    with ended(proc):
        yield proc


def json_line(proc: subprocess.Popen[bytes]) -> object:
    """The next line the process prints, as JSON (its stderr in the failure if none)."""
    assert proc.stdout is not None
    line = proc.stdout.readline()
    assert line, proc.stderr.read().decode() if proc.stderr else "no output"
    return json.loads(line)


def go_on(proc: subprocess.Popen[bytes]) -> object:
    """Tell the process (waiting on a line of stdin) to go on; its next JSON line."""
    assert proc.stdin is not None
    proc.stdin.write(b"go\n")
    proc.stdin.flush()
    return json_line(proc)


def script_report(pid: int, script: str, *args: str) -> dict[str, str]:
    """The host's python3 runs `script` in an attach session of `pid` (through the merged
    root); each line it prints is `key value`: the lines as a dict. Fails with its stderr
    if it did not exit 0."""
    python = shutil.which("python3", path="/usr/bin:/bin")
    assert python, "the host's python3 runs inside through the merged root"
    with AttachSession(pid) as session:
        proc = session.spawn(
            [python, "-c", script, *args], stdout=subprocess.PIPE, stderr=subprocess.PIPE
        )
        out, err = proc.communicate(timeout=60)
    assert proc.returncode == 0, err.decode()
    return dict(line.split(" ", 1) for line in out.decode().splitlines())


def python3() -> str:
    found = shutil.which("python3", path="/usr/bin:/bin")
    assert found, "the host's python3 runs inside through the merged root"
    return found


def ready_line(pid: int) -> dict[str, object]:
    """The file server's ready line for `pid`'s FUSE root (as each client gets it)."""
    path = os.path.join(merged_root.RUN_DIR, f"{pid}-{start_ticks(pid)}-fuse.sock")
    connected = merged_root.connect_root(path)
    assert connected is not None, f"no file server at {path}"
    sock, info = connected
    sock.close()  # our hold ends; the session's stays
    return info
