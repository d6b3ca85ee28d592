"""Cores the kernel wrote for a container's crashed process: `cntr-tui cores` lists them
by container, `--keep` copies one and the files it maps to the host, and `gdb --core`
opens the copy with file:line after the container is gone. Bad input and a full disk
are one line with nothing left.

The crash is real: a second /app/threads started in the container (nsenter into its
mount and PID namespaces, its root, with RLIMIT_CORE raised there) gets SIGSEGV, and
the kernel writes the core where core_pattern says (a relative name here: the process's
working folder, /tmp, in the container's root)."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from cntr_tui.debug.core_bundle import DEFAULT_FOLDER, CoreBundle
from cntr_tui.debug.kernel_cores import core_pattern
from cntr_tui.demo.containers import StartedContainer
from tests.support.cli import CNTR_TUI
from tests.support.disks import small_tmpfs as small_tmpfs_of
from tests.support.runtimes import TEST_PREFIX, StartContainer

RUNTIMES = ["docker", "process"]


def cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*CNTR_TUI, *args], capture_output=True, text=True, timeout=120, stdin=subprocess.DEVNULL
    )


@pytest.fixture
def out_dir() -> Iterator[Path]:
    path = Path("/var/tmp") / f"{TEST_PREFIX}kcores-{uuid.uuid4().hex[:8]}"
    path.mkdir()
    yield path
    subprocess.run(["rm", "-rf", str(path)], check=False)


def file_pattern() -> None:
    pattern = core_pattern()
    if pattern.is_pipe:
        pytest.skip(f"core_pattern is a pipe ({pattern.text}): the kernel writes no file core")


def crash_in(container: StartedContainer) -> int:
    """A second /app/threads in the container, killed by SIGSEGV once ready: its PID
    in the container's PID namespace."""
    script = "ulimit -c unlimited; cd /tmp; exec /app/threads"
    entered = subprocess.Popen(
        ["nsenter", "-t", str(container.pid), "-m", "-p", "-r", "/bin/sh", "-c", script],
        stdout=subprocess.PIPE,
    )
    try:
        assert entered.stdout is not None
        assert b"ready" in entered.stdout.readline()
        children = Path(f"/proc/{entered.pid}/task/{entered.pid}/children").read_text().split()
        [host_pid] = [int(pid) for pid in children]
        status = Path(f"/proc/{host_pid}/status").read_text()
        inner = int(
            next(line for line in status.splitlines() if line.startswith("NSpid:")).split()[-1]
        )
        os.kill(host_pid, signal.SIGSEGV)
        entered.wait(timeout=60)
        return inner
    finally:
        if entered.poll() is None:
            entered.kill()
            entered.wait()


def listed(word: str) -> list[dict]:
    done = cli("cores", word, "--json")
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


@pytest.mark.parametrize("runtime", RUNTIMES)
def test_a_crash_is_listed_kept_and_opens_after_the_container_is_gone(
    runtime: str, start_container: StartContainer
) -> None:
    file_pattern()
    container = start_container(runtime)
    word = str(container.pid) if runtime == "process" else container.name
    assert [c for c in listed(word) if c["kind"] == "kernel"] == []
    pid = crash_in(container)

    [core] = [c for c in listed(word) if c["kind"] == "kernel"]
    assert core["signal"] == "SIGSEGV" and core["pid"] == pid
    [entry] = json.loads(cli("ls", "--json", word).stdout)
    assert core["container"] == {k: entry[k] for k in ("runtime", "id", "name")}
    name, path = core["core"].split(":", 1)
    assert name == entry["name"] and path.startswith("/tmp/core")
    everything = cli("cores", "--json")
    assert core in json.loads(everything.stdout), "the listing of every container has it too"

    done = cli("cores", word, "--keep", path)  # to the default folder, listed from there
    assert done.returncode == 0, done.stderr
    kept = Path(done.stdout.split(" kept at ", 1)[1].split(":", 1)[0])
    try:
        assert kept.is_relative_to(DEFAULT_FOLDER)
        manifest = json.loads(kept.with_name(kept.name + ".json").read_text())
        assert manifest["process"]["executable"] == "/app/threads"
        assert manifest["kernel_core"]["signal"] == signal.SIGSEGV
        kept_paths = {o["path"] for o in manifest["objects"]}
        assert "/app/threads" in kept_paths and any("libc.so" in p for p in kept_paths)
        assert {c["core"] for c in listed(word) if c["kind"] == "kept"} == {str(kept)}

        container.remove()
        opened = cli("gdb", "--core", str(kept), "--batch", "-ex", "thread apply all bt")
        assert opened.returncode == 0, opened.stderr
        assert "threads.c:" in opened.stdout, opened.stdout
        assert "Program terminated with signal SIGSEGV" in opened.stdout + opened.stderr
        shown = cli("snapshot", "--core", str(kept))
        assert shown.returncode == 0, shown.stderr
        assert "the kernel wrote the core when the process crashed" in shown.stdout.splitlines()[0]
        assert "threads.c:" in shown.stdout
    finally:
        CoreBundle(kept).remove()
        kept.parent.rmdir()


def one_line(done: subprocess.CompletedProcess[str]) -> str:
    assert done.returncode != 0 and done.stdout == ""
    assert done.stderr.startswith("cntr-tui: ") and done.stderr.count("\n") == 1, done.stderr
    return done.stderr


@pytest.fixture
def small_tmpfs() -> Iterator[Path]:
    with small_tmpfs_of("64k") as path:
        yield path


def test_bad_input_and_a_full_disk_are_one_line_with_nothing_left(
    start_container: StartContainer, out_dir: Path, small_tmpfs: Path
) -> None:
    file_pattern()
    container = start_container("process")
    word = str(container.pid)
    crash_in(container)
    [core] = [c for c in listed(word) if c["kind"] == "kernel"]
    path = core["core"].split(":", 1)[1]

    assert "not a 64-bit little-endian core" in one_line(
        cli("cores", word, "--keep", "/app/threads", "-o", str(out_dir / "a"))
    )
    assert "no such file" in one_line(
        cli("cores", word, "--keep", "/tmp/no-core", "-o", str(out_dir / "b"))
    )
    assert "absolute path" in one_line(cli("cores", word, "--keep", "core"))
    assert "needs the CONTAINER" in one_line(cli("cores", "--keep", path))
    assert list(out_dir.iterdir()) == []

    full = one_line(cli("cores", word, "--keep", path, "-o", str(small_tmpfs / "core")))
    assert "No space left on device" in full, full
    assert list(small_tmpfs.iterdir()) == []
    before = sorted(os.listdir(f"/proc/{container.pid}/root/tmp"))
    assert cli("cores", word, "--keep", path, "-o", str(out_dir / "c")).returncode == 0
    assert sorted(os.listdir(f"/proc/{container.pid}/root/tmp")) == before, "wrote in the container"


async def test_c_on_the_list_shows_the_crash_and_enter_keeps_and_opens_it(
    start_container: StartContainer,
) -> None:
    from cntr_tui.app.app import CntrApp
    from cntr_tui.app.screens.cores import CoresScreen
    from cntr_tui.app.screens.snapshot import CoreScreen
    from tests.runtime.test_app import SIZE, select, wait_for

    file_pattern()
    started = start_container("docker")
    pid = crash_in(started)
    app = CntrApp()
    kept: Path | None = None
    try:
        async with app.run_test(size=SIZE) as pilot:
            await select(pilot, app, started)
            await pilot.press("C")
            await wait_for(pilot, lambda: isinstance(app.screen, CoresScreen), "the cores", 10)
            cores = app.screen
            assert isinstance(cores, CoresScreen)
            await wait_for(pilot, lambda: cores.listed, "the cores listed", 30)
            [crash] = [c for c in cores.listed if c.kind == "kernel"]
            assert crash.pid == pid and crash.container == started.name
            assert crash.core.startswith(f"{started.name}:/tmp/core")
            table = cores.query_one("#cores")
            table.move_cursor(row=cores.listed.index(crash))  # type: ignore[attr-defined]
            await pilot.press("enter")
            await wait_for(pilot, lambda: isinstance(app.screen, CoreScreen), "the core", 60)
            screen = app.screen
            assert isinstance(screen, CoreScreen)
            kept = screen.core
            await wait_for(pilot, lambda: screen.taken == 1, "the core read", 60)
            assert any("threads.c:" in line for line in screen.lines), screen.lines
            await pilot.press("escape")
            await wait_for(pilot, lambda: app.screen is cores, "back to the cores", 10)
            await wait_for(
                pilot, lambda: any(c.core == str(kept) for c in cores.listed), "kept listed", 30
            )
    finally:
        if kept is not None:
            CoreBundle(kept).remove()
            kept.parent.rmdir()
