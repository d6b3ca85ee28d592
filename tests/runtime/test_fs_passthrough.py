"""FUSE passthrough in the merged root's FUSE mode (Linux 6.9+, `cntr_tui.fs.passthrough`):
a regular file's reads and writes go from the kernel to the host file with no request to
the file server, so both sides see each other's bytes at once, the cases the writeback
cache does not give included (a file held open sees the host grow it, O_APPEND lands at
the host's end, a shared mapping sees the host's writes and the host its stores). With
CNTR_TUI_FS_PASSTHROUGH=off (or a kernel without it) the writeback cache serves, as the
server's ready line says (`data_path`).

`data_paths` (a fixture, imported by test_fs_write_order and test_fs_page_cache) runs a
test once with each data path."""

from __future__ import annotations

import contextlib
import json
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from cntr_tui.attach.session import AttachOptions, AttachSession
from cntr_tui.fs.fastloop import COUNTS_ENV
from tests.support.fs_session import json_line, python3, ready_line, spawned

PASSTHROUGH_ENV = "CNTR_TUI_FS_PASSTHROUGH"
BIG = 8 << 20

# Run inside the session (the host's python3 through the merged root): one command a
# line on stdin, one JSON answer a line; bytes travel as latin-1 strings.
SCRIPT = r"""
import json, mmap, os, sys
def answer(**fields):
    print(json.dumps(fields), flush=True)
files, maps = {}, {}
MODES = {"r": os.O_RDONLY, "a": os.O_WRONLY | os.O_APPEND, "rw": os.O_RDWR}
for line in sys.stdin:
    c = json.loads(line)
    op = c["op"]
    data = c.get("data", "").encode("latin-1")
    if op == "read":  # open, read to the end, close
        fd = os.open(c["path"], os.O_RDONLY | os.O_CLOEXEC)
        size = 0
        while chunk := os.read(fd, 1 << 20):
            size += len(chunk)
        os.close(fd)
        answer(size=size)
    elif op == "open":
        files[c["name"]] = os.open(c["path"], MODES[c["mode"]] | os.O_CLOEXEC)
        answer(step="open")
    elif op == "next":  # read() on from the held file's offset
        answer(data=os.read(files[c["name"]], 1 << 20).decode("latin-1"))
    elif op == "write":
        answer(written=os.write(files[c["name"]], data))
    elif op == "pwrite":
        answer(written=os.pwrite(files[c["name"]], data, c["offset"]))
    elif op == "pread":
        answer(data=os.pread(files[c["name"]], c["size"], c["offset"]).decode("latin-1"))
    elif op == "map":  # a shared mapping of the held file
        maps[c["name"]] = mmap.mmap(files[c["name"]], 0)
        answer(step="mapped")
    elif op == "peek":
        m = maps[c["name"]]
        answer(data=m[c["offset"] : c["offset"] + c["size"]].decode("latin-1"))
    elif op == "poke":  # a store, no msync
        maps[c["name"]][c["offset"] : c["offset"] + len(data)] = data
        answer(step="stored")
"""


@pytest.fixture(params=["passthrough", "writeback"])
def data_paths(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    """The file server's data path for this run: FUSE passthrough (the default) or, with
    CNTR_TUI_FS_PASSTHROUGH=off, the writeback cache."""
    if request.param == "writeback":
        monkeypatch.setenv(PASSTHROUGH_ENV, "off")
    else:
        monkeypatch.delenv(PASSTHROUGH_ENV, raising=False)
    return str(request.param)


class Inside:
    """The session's side: send a command, get its answer."""

    def __init__(self, proc: subprocess.Popen[bytes]) -> None:
        self.proc = proc

    def do(self, **command: object) -> dict[str, object]:
        assert self.proc.stdin is not None
        self.proc.stdin.write(json.dumps(command).encode() + b"\n")
        self.proc.stdin.flush()
        answer = json_line(self.proc)
        assert isinstance(answer, dict)
        return answer


def counts_after(path: Path, since: float) -> dict[str, int]:
    """The requests the server counted (CNTR_TUI_FS_COUNTS), once it has written them
    after `since` (on a request; the watchdog probes every second)."""
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        with contextlib.suppress(FileNotFoundError, ValueError):
            if path.stat().st_mtime > since:
                return json.loads(path.read_text())
        time.sleep(0.05)
    raise AssertionError("the file server wrote no request counts")


@contextlib.contextmanager
def session_with_counts(
    start_container, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[tuple[AttachSession, Path, int]]:
    counts = tmp_path / "counts.json"
    monkeypatch.setenv(COUNTS_ENV, str(counts))  # the new container's server counts
    container = start_container("docker")
    with AttachSession(container.pid, AttachOptions(fs="fuse")) as session:
        yield session, counts, container.pid


def test_passthrough_serves_reads_and_writes_without_the_server(
    start_container, host_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv(PASSTHROUGH_ENV, raising=False)
    big = host_dir / "big"
    big.write_bytes(b"p" * BIG)
    written = host_dir / "written"
    written.write_bytes(b"")
    with (
        session_with_counts(start_container, tmp_path, monkeypatch) as (session, counts, pid),
        spawned(session, [python3(), "-c", SCRIPT]) as proc,
    ):
        assert ready_line(pid)["data_path"] == "passthrough"
        inside = Inside(proc)
        for _ in range(2):  # cold, then warm
            assert inside.do(op="read", path=str(big)) == {"size": BIG}
        inside.do(op="open", name="w", path=str(written), mode="rw")
        for index in range(64):
            assert inside.do(op="write", name="w", data="w" * 4096) == {"written": 4096}
            assert written.stat().st_size == 4096 * (index + 1)  # on the host at once
        finished = time.time()
        seen = counts_after(counts, finished)
    # 16 MiB read and 256 KiB written; python3 itself started through the merged root
    # (its binary, libraries and modules read): not one READ or WRITE reached the server
    assert seen.get("OPEN", 0) > 0
    assert "READ" not in seen and "WRITE" not in seen, seen
    assert written.read_bytes() == b"w" * (64 * 4096)


def test_without_passthrough_the_writeback_cache_serves(
    start_container, host_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(PASSTHROUGH_ENV, "off")
    big = host_dir / "big"
    big.write_bytes(b"p" * BIG)
    with (
        session_with_counts(start_container, tmp_path, monkeypatch) as (session, counts, pid),
        spawned(session, [python3(), "-c", SCRIPT]) as proc,
    ):
        line = ready_line(pid)
        assert line["data_path"] == "writeback cache (CNTR_TUI_FS_PASSTHROUGH=off)", line
        assert Inside(proc).do(op="read", path=str(big)) == {"size": BIG}
        seen = counts_after(counts, time.time())
    assert seen.get("READ", 0) >= BIG // (1 << 20), seen  # the data came through us


def test_both_sides_see_each_others_bytes_at_once(start_container, host_dir: Path) -> None:
    """What the writeback cache does not give (README): a held-open file sees the host
    grow it, O_APPEND writes land at the host's end, both sides writing one open file,
    a shared mapping and the host's writes; with no close, fsync or msync between."""
    grown, log, shared, mapped = (host_dir / name for name in ("grown", "log", "shared", "mapped"))
    grown.write_bytes(b"a" * 4096)
    log.write_bytes(b"")
    shared.write_bytes(b"x" * 100)
    mapped.write_bytes(b"m" * 4096)
    container = start_container("docker")
    with (
        AttachSession(container.pid, AttachOptions(fs="fuse")) as session,
        spawned(session, [python3(), "-c", SCRIPT]) as proc,
    ):
        assert ready_line(container.pid)["data_path"] == "passthrough"
        inside = Inside(proc)
        inside.do(op="open", name="grown", path=str(grown), mode="r")
        assert inside.do(op="next", name="grown") == {"data": "a" * 4096}
        with grown.open("ab") as file:  # the host grows the file the session holds open
            file.write(b"b" * 4096)
        assert inside.do(op="next", name="grown") == {"data": "b" * 4096}

        inside.do(op="open", name="log", path=str(log), mode="a")
        inside.do(op="write", name="log", data="s1\n")
        with log.open("ab") as file:
            file.write(b"h1\n")
        inside.do(op="write", name="log", data="s2\n")
        assert log.read_bytes() == b"s1\nh1\ns2\n"  # the host's end, no close between

        inside.do(op="open", name="shared", path=str(shared), mode="rw")
        inside.do(op="pwrite", name="shared", data="IN", offset=0)
        with shared.open("r+b") as file:
            assert file.read(2) == b"IN"
            file.seek(50)
            file.write(b"HO")
        assert inside.do(op="pread", name="shared", size=2, offset=50) == {"data": "HO"}

        inside.do(op="open", name="mapped", path=str(mapped), mode="rw")
        inside.do(op="map", name="mapped")
        with mapped.open("r+b") as file:
            file.write(b"H")
        assert inside.do(op="peek", name="mapped", offset=0, size=2) == {"data": "Hm"}
        inside.do(op="poke", name="mapped", offset=1, data="S")
        assert mapped.read_bytes()[:3] == b"HSm"  # the store, before any msync
