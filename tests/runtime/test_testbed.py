"""The test bed itself: every runtime starts a real container we can see in /proc."""

import os
from pathlib import Path

import pytest

from cntr_tui.demo.rootfs import build_rootfs
from tests.support.proc import wait_until
from tests.support.runtimes import ALL_RUNTIMES


def namespace(pid: int | str, kind: str) -> str:
    return os.readlink(f"/proc/{pid}/ns/{kind}")


@pytest.mark.parametrize("runtime", ALL_RUNTIMES)
def test_container_runs_in_own_namespaces_and_is_removed(runtime: str, start_container) -> None:
    container = start_container(runtime)
    cmdline = Path(f"/proc/{container.pid}/cmdline").read_bytes().split(b"\0")
    assert cmdline[0] == b"/app/threads"
    for kind in ("mnt", "pid"):
        assert namespace(container.pid, kind) != namespace("self", kind), kind
    # main + 3 workers; docker and podman return once the program runs, not once it has
    # started its workers (CI, podman: 1 thread at the first look)
    task = f"/proc/{container.pid}/task"
    assert wait_until(lambda: len(os.listdir(task)) == 4, 10), os.listdir(task)
    container.remove()
    assert not os.path.exists(f"/proc/{container.pid}")


def test_cpp_program_runs_in_a_container(start_container) -> None:
    container = start_container("process", program="/app/shapes")
    assert Path(f"/proc/{container.pid}/comm").read_text().strip() == "shapes"


def test_rootfs_is_slim_and_has_sources(demo_rootfs: Path) -> None:
    assert (demo_rootfs / "app/src/threads.c").is_file()
    assert (demo_rootfs / "app/src/shapes.cpp").is_file()
    assert (demo_rootfs / "bin/sh").is_symlink()
    assert not any((demo_rootfs / d / "gdb").exists() for d in ("bin", "usr/bin"))
    assert build_rootfs() == demo_rootfs  # cached, not rebuilt
