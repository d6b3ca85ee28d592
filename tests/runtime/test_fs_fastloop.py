"""The FUSE request loop without trio (`cntr_tui.fs.fastloop`) and kernel-cached listings."""

from __future__ import annotations

import ctypes
import shutil
import struct
import uuid
from pathlib import Path

import pyfuse3
import pytest

from cntr_tui.fs.fastloop import (
    FUSE_CAP_CACHE_SYMLINKS,
    FUSE_CAP_READDIRPLUS,
    LOWLEVEL_OPS_SIZE,
    SESSION_SCAN,
    SYMBOLS,
    FastLoop,
    elf_symbols,
)
from tests.support.fs_session import script_report

LISTING_SCRIPT = r"""
import os, sys
base = sys.argv[1]
def names():
    return " ".join(sorted(os.listdir(base)))
print("before", names())
print("again", names())
open(f"{base}/new", "w").close()
print("created", names())
os.rename(f"{base}/new", f"{base}/renamed")
print("renamed", names())
os.unlink(f"{base}/a")
print("removed", names())
os.mkdir(f"{base}/sub")
open(f"{base}/sub/inner", "w").close()
print("sub", " ".join(os.listdir(f"{base}/sub")))
print("walk", sum(len(files) + len(dirs) for _, dirs, files in os.walk(base)))
"""


def test_pyfuse3_exposes_what_the_fast_loop_needs():
    """A stripped or changed pyfuse3 would silently fall back to the slow loop."""
    symbols = elf_symbols(pyfuse3.__file__, SYMBOLS)
    assert set(symbols) == set(SYMBOLS)
    assert all(value > 0 for value in symbols.values())
    assert FastLoop.locate() is None  # no session before pyfuse3.init


@pytest.fixture
def listed_dir():
    path = Path("/var/tmp") / f"cntr-test-listing-{uuid.uuid4().hex[:8]}"
    path.mkdir()
    for name in ("a", "b", "c"):
        (path / name).write_text(name)
    yield path
    shutil.rmtree(path, ignore_errors=True)


def test_cached_listings_follow_changes_made_through_the_mount(start_container, listed_dir):
    container = start_container("process")
    report = script_report(container.pid, LISTING_SCRIPT, str(listed_dir))
    assert report["before"] == report["again"] == "a b c"
    assert report["created"] == "a b c new"
    assert report["renamed"] == "a b c renamed"
    assert report["removed"] == "b c renamed"
    assert report["sub"] == "inner"
    assert report["walk"] == "5"
    assert sorted(p.name for p in listed_dir.iterdir()) == ["b", "c", "renamed", "sub"]


def fake_session(capable: int, want: int) -> tuple[ctypes.Array[ctypes.c_char], int]:
    """Bytes laid out like libfuse 3.14's fuse_session: ops table, then fuse_conn_info."""
    session = ctypes.create_string_buffer(SESSION_SCAN)
    init_function = 0x7F00DEADBEEF
    op_offset = 48
    struct.pack_into("<Q", session, op_offset, init_function)
    conn_offset = op_offset + LOWLEVEL_OPS_SIZE + 28  # got_init, cuse_data, userdata, owner
    struct.pack_into("<7I", session, conn_offset, 7, 41, 1 << 20, 0, 128 << 10, capable, want)
    return session, conn_offset


def loop_over(session: ctypes.Array[ctypes.c_char]) -> FastLoop:
    unused = ctypes.CFUNCTYPE(None)()
    return FastLoop(
        ctypes.addressof(session), ctypes.c_void_p(), unused, unused, unused, unused, 0x7F00DEADBEEF
    )


def test_capabilities_are_asked_for_only_where_offered():
    base = FUSE_CAP_READDIRPLUS | 1  # and ASYNC_READ
    session, conn = fake_session(base | FUSE_CAP_CACHE_SYMLINKS, base)
    assert loop_over(session).want_capabilities(FUSE_CAP_CACHE_SYMLINKS) == FUSE_CAP_CACHE_SYMLINKS
    assert struct.unpack_from("<I", session, conn + 24)[0] == base | FUSE_CAP_CACHE_SYMLINKS

    session, conn = fake_session(base, base)  # an older kernel: not offered
    assert loop_over(session).want_capabilities(FUSE_CAP_CACHE_SYMLINKS) == 0
    assert struct.unpack_from("<I", session, conn + 24)[0] == base


def test_nothing_is_written_into_an_unrecognised_session():
    base = FUSE_CAP_READDIRPLUS
    session, _ = fake_session(base | FUSE_CAP_CACHE_SYMLINKS, base | (1 << 30))  # want > capable
    before = session.raw
    assert loop_over(session).want_capabilities(FUSE_CAP_CACHE_SYMLINKS) == 0
    assert session.raw == before
