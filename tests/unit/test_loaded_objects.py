"""symbols.loaded_objects: the dynamic linker's list of a running (not stopped) process,
read from /proc/PID/mem, against the kernel's /proc/PID/maps of the same process."""

from __future__ import annotations

import os
import shutil
import subprocess

import pytest

from cntr_tui.gdb.elf import read_elf
from cntr_tui.gdb.symbols import link_map, loaded_objects


def first_mapping(pid: int, path: str) -> int | None:
    """The start of the mapping of `path` at file offset 0."""
    real = os.path.realpath(path)
    with open(f"/proc/{pid}/maps") as maps:
        for line in maps:
            fields = line.split()
            if len(fields) >= 6 and int(fields[2], 16) == 0 and fields[5] == real:
                return int(fields[0].split("-")[0], 16)
    return None


@pytest.fixture
def sleeper():
    sleep = shutil.which("sleep")
    assert sleep is not None
    process = subprocess.Popen([sleep, "30"], stdin=subprocess.PIPE, close_fds=True)
    try:
        # the loader has mapped everything once it waits in nanosleep
        for _ in range(2000):
            with open(f"/proc/{process.pid}/wchan") as wchan:
                if "nanosleep" in wchan.read():
                    break
            os.sched_yield()
        yield process.pid
    finally:
        process.kill()
        process.wait()


def test_names_and_biases_match_the_kernel_mappings(sleeper: int) -> None:
    found = loaded_objects(sleeper)
    names = [name for name, _ in found]
    assert any(os.path.basename(name).startswith("libc.so") for name in names), names
    for name, bias in found:
        assert name.startswith("/")
        info = read_elf(name)
        assert info is not None
        start = first_mapping(sleeper, name)
        assert start is not None, name
        # a shared object's first segment is at address 0: the bias is where it is mapped
        assert bias == start, (name, hex(bias), hex(start))


def test_gone_or_static_gives_nothing() -> None:
    assert loaded_objects(2**22 + 12345) == []
    assert link_map(b"", lambda address, size: b"") == []
