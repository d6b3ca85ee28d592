"""Writes through the merged root (FUSE mode: passthrough, and the writeback cache) and
on the host, seen by the other side in order: a process in the session and the test on
the host take turns on the same host files, each checking the whole file after the
other's turn.

The session's side writes by small write()s (records of 9 bytes: not page-aligned),
then fsync()s or close()s; the host must then read exactly what was written, in order.
The host writes directly (appends, rewrites in place, truncates); the session's next
open must read the host's file as it is (not a stale page, not its old size, not
zeros past a shrunk end). With the writeback cache the kernel keeps its own size of a
file over the server's: without the server's new inode for a file changed behind the
kernel's back, the session reads host-grown files short and appends over the host's
records."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest

from cntr_tui.attach.session import AttachOptions, AttachSession
from tests.runtime.test_fs_passthrough import data_paths  # noqa: F401 (a fixture)
from tests.support.fs_session import json_line, spawned

# each test runs with FUSE passthrough and with the writeback cache (`data_paths`)
pytestmark = pytest.mark.usefixtures("data_paths")

# Run inside the session (the host's python3 through the merged root): one command a
# line on stdin, one JSON answer a line; bytes travel as latin-1 strings.
SCRIPT = r"""
import json, mmap, os, sys
def answer(**fields):
    print(json.dumps(fields), flush=True)
held = {}
for line in sys.stdin:
    command = json.loads(line)
    op, path = command["op"], command["path"]
    data = command.get("data", "").encode("latin-1")
    if op == "append":  # O_APPEND, a write() a record, then fsync (held open) or close
        fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CLOEXEC)
        for record in command["records"]:
            assert os.write(fd, record.encode("latin-1")) == len(record)
        if command["fsync"]:
            os.fsync(fd)
            answer(step="fsynced")
            sys.stdin.readline()  # the host reads while the file is still open
        os.close(fd)
        answer(step="closed")
    elif op == "pwrite":  # O_WRONLY: the kernel must read the page it writes part of
        fd = os.open(path, os.O_WRONLY | os.O_CLOEXEC)
        assert os.pwrite(fd, data, command["offset"]) == len(data)
        os.close(fd)
        answer(step="closed")
    elif op == "mmap":  # a shared mapping's stores, msync
        fd = os.open(path, os.O_RDWR | os.O_CLOEXEC)
        with mmap.mmap(fd, 0) as mapped:
            mapped[command["offset"] : command["offset"] + len(data)] = data
            mapped.flush()
            seen = mapped[:].decode("latin-1")
        os.close(fd)
        answer(step="synced", mapped=seen)
    elif op == "hold":  # an O_PATH fd of the file, to open it again by its /proc link
        held[path] = os.open(path, os.O_PATH | os.O_CLOEXEC)
        answer(step="held")
    elif op == "reopen":  # no lookup: the kernel's open reaches the inode it had
        try:
            fd = os.open(f"/proc/self/fd/{held[path]}", os.O_RDONLY | os.O_CLOEXEC)
        except OSError as error:
            answer(error=error.errno)
            continue
        answer(data=os.read(fd, 1 << 16).decode("latin-1"))
        os.close(fd)
    elif op == "truncate":
        os.truncate(path, command["size"])
        answer(step="truncated")
    elif op == "read":  # a fresh open; read() to the end, fstat, and a mapping's view
        fd = os.open(path, os.O_RDONLY | os.O_CLOEXEC)
        chunks = []
        while chunk := os.read(fd, 1 << 16):
            chunks.append(chunk)
        size = os.fstat(fd).st_size
        mapped = b""
        if size:
            with mmap.mmap(fd, 0, prot=mmap.PROT_READ) as view:
                mapped = view[:]
        os.close(fd)
        answer(data=b"".join(chunks).decode("latin-1"), size=size,
               mapped=mapped.decode("latin-1"), stat=os.stat(path).st_size)
"""


def python3() -> str:
    found = shutil.which("python3", path="/usr/bin:/bin")
    assert found, "the host's python3 runs inside through the merged root"
    return found


def record(side: str, turn: int, index: int) -> str:
    return f"{side}{turn:03d}.{index:03d}\n"  # 9 bytes


class Inside:
    """The session's side: send a command, get its answer."""

    def __init__(self, proc: subprocess.Popen[bytes]) -> None:
        self.proc = proc

    def send(self, **command: object) -> None:
        assert self.proc.stdin is not None
        self.proc.stdin.write(json.dumps(command).encode() + b"\n")
        self.proc.stdin.flush()

    def do(self, **command: object) -> dict[str, object]:
        self.send(**command)
        answer = json_line(self.proc)
        assert isinstance(answer, dict)
        return answer

    def read(self, path: Path) -> bytes:
        answer = self.do(op="read", path=str(path))
        data = str(answer["data"]).encode("latin-1")
        # what read() gave, the size fstat and stat say, a mapping's bytes: all the same
        assert answer["size"] == answer["stat"] == len(data), answer
        assert str(answer["mapped"]).encode("latin-1") == data
        return data


def test_the_session_and_the_host_see_each_others_writes_in_order(
    start_container, host_dir: Path
) -> None:
    container = start_container("docker")
    log, pages, mapped = host_dir / "log", host_dir / "pages", host_dir / "mapped"
    log.write_bytes(b"")
    with (
        AttachSession(container.pid, AttachOptions(fs="fuse")) as session,
        spawned(session, [python3(), "-c", SCRIPT]) as proc,
    ):
        inside = Inside(proc)
        expected = b""
        for turn in range(6):
            # the session appends three records; the host reads them after the
            # session's fsync (the file still open there) or close
            records = [record("c", turn, index) for index in range(3)]
            fsync = turn % 2 == 1
            inside.send(op="append", path=str(log), records=records, fsync=fsync)
            expected += "".join(records).encode()
            if fsync:
                assert json_line(proc) == {"step": "fsynced"}
                assert log.read_bytes() == expected, f"turn {turn}: after fsync"
                assert proc.stdin is not None
                proc.stdin.write(b"go\n")
                proc.stdin.flush()
            assert json_line(proc) == {"step": "closed"}
            assert log.read_bytes() == expected, f"turn {turn}: after close"
            # the host appends one; the session's next open reads it, and its next
            # append goes after it
            with log.open("ab") as file:
                file.write(record("h", turn, 0).encode())
            expected += record("h", turn, 0).encode()
            assert inside.read(log) == expected, f"turn {turn}: the host's append"

        # a write-only open writing part of a page the kernel has not read
        pages.write_bytes(b"a" * 4096 + b"b" * 4096 + b"c" * 4096)
        assert inside.do(op="pwrite", path=str(pages), offset=5000, data="XYZ") == {
            "step": "closed"
        }
        content = b"a" * 4096 + b"b" * 904 + b"XYZ" + b"b" * 3189 + b"c" * 4096
        assert pages.read_bytes() == content
        assert inside.read(pages) == content
        # the host rewrites a page in place (same size), then shrinks the file
        with pages.open("r+b") as file:
            file.seek(4096)
            file.write(b"d" * 4096)
        content = b"a" * 4096 + b"d" * 4096 + b"c" * 4096
        assert inside.read(pages) == content, "the host's rewrite in place"
        with pages.open("r+b") as file:
            file.truncate(4100)
        assert inside.read(pages) == content[:4100], "the host's truncate"
        # the session truncates; the host grows it again
        assert inside.do(op="truncate", path=str(pages), size=2000) == {"step": "truncated"}
        assert pages.read_bytes() == content[:2000]
        with pages.open("ab") as file:
            file.write(b"e" * 3000)
        assert inside.read(pages) == content[:2000] + b"e" * 3000, "the host's append"

        # a shared mapping's stores, msync'ed, and the host's writes seen by the next one
        mapped.write_bytes(bytes(8192))
        answer = inside.do(op="mmap", path=str(mapped), offset=4090, data="mapped!!")
        content = bytes(4090) + b"mapped!!" + bytes(8192 - 4098)
        assert answer == {"step": "synced", "mapped": content.decode("latin-1")}
        assert mapped.read_bytes() == content
        with mapped.open("r+b") as file:
            file.seek(100)
            file.write(b"host")
        content = content[:100] + b"host" + content[104:]
        answer = inside.do(op="mmap", path=str(mapped), offset=0, data="s")
        content = b"s" + content[1:]
        assert answer == {"step": "synced", "mapped": content.decode("latin-1")}
        assert mapped.read_bytes() == content

        # an open by a /proc fd link after a host change (no lookup, so no new inode):
        # no ESTALE reaches the program (the server answers it once an inode), and it
        # reads the host's bytes, up to the size the kernel's inode has (the old one:
        # 216 of 221 bytes here; a limit of an open without a lookup)
        assert inside.do(op="hold", path=str(log)) == {"step": "held"}
        with log.open("ab") as file:
            file.write(b"tail\n")
        answer = inside.do(op="reopen", path=str(log))
        data = str(answer.get("data")).encode("latin-1")
        assert "error" not in answer and data == (expected + b"tail\n")[: len(data)], answer
        assert proc.stdin is not None
        proc.stdin.close()
        assert proc.wait(30) == 0


# A caller without CAP_FSETID (nobody, forked off the session's root process) writes,
# opens O_TRUNC and truncates a set-user-ID file it owns: the kernel clears S_ISUID on
# the host's own file system; through the merged root the server does it when the
# kernel asks (FUSE_HANDLE_KILLPRIV_V2's flags, which pyfuse3 does not pass on).
KILL_SCRIPT = r"""
import os, sys
for path in sys.argv[1:]:
    how = os.path.basename(path)
    if os.fork() == 0:
        os.setresgid(65534, 65534, 65534)
        os.setresuid(65534, 65534, 65534)
        if how == "truncate":
            os.truncate(path, 1)
        else:
            flags = os.O_WRONLY | os.O_CLOEXEC | (os.O_TRUNC if how == "trunc" else 0)
            fd = os.open(path, flags)
            if how == "write":
                os.write(fd, b"x")
            os.close(fd)
        os._exit(0)
    os.wait()
    print(how, oct(os.stat(path).st_mode & 0o7777))
"""
NOBODY = 65534


def set_id_files(folder: Path) -> list[str]:
    folder.mkdir(mode=0o755)
    folder.chmod(0o755)
    names = []
    for how in ("write", "trunc", "truncate"):
        path = folder / how
        path.write_bytes(b"data")
        os.chown(path, NOBODY, NOBODY)
        path.chmod(0o4766)
        names.append(str(path))
    return names


def test_a_write_by_a_caller_without_fsetid_clears_set_user_id(
    start_container, host_dir: Path
) -> None:
    host = subprocess.run(
        [python3(), "-c", KILL_SCRIPT, *set_id_files(host_dir / "host")],
        capture_output=True,
        check=True,
    ).stdout
    container = start_container("docker")
    with (
        AttachSession(container.pid, AttachOptions(fs="fuse")) as session,
        spawned(session, [python3(), "-c", KILL_SCRIPT, *set_id_files(host_dir / "in")]) as proc,
    ):
        inside, err = proc.communicate(timeout=60)
        assert proc.returncode == 0, err.decode()
    assert host == b"write 0o766\ntrunc 0o766\ntruncate 0o766\n"
    assert inside == host
