"""LXD end to end: the test bed's daemon (scripts/services.d/lxd.sh), an image built
here from the slim demo root, containers running the threads program as their init.

`ls` and the TUI list them with their project and state, attach and `gdb --batch`
work on them and leave nothing behind (no session process or mount, no file in the
container's root), and a stopped one is listed as stopped, never as a target.
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from cntr_tui.app.app import CntrApp
from cntr_tui.attach.discovery import list_containers
from cntr_tui.demo.rootfs import build_rootfs
from cntr_tui.widgets.container_table import ContainerTable
from tests.support.attach import assert_nothing_left, cli, pid_namespace_members
from tests.support.lxd import (
    LxdBed,
    LxdContainer,
    import_image,
    leftovers,
    lxc,
    require_lxd,
)

LIST_DEADLINE = 20.0


@pytest.fixture(scope="module")
def bed() -> Iterator[LxdBed]:
    require_lxd()
    bed = LxdBed(import_image(build_rootfs()))
    try:
        yield bed
    finally:
        bed.remove()
    assert not leftovers(bed), "LXD still holds what the tests made"


@pytest.fixture(scope="module")
def running(bed: LxdBed) -> LxdContainer:
    """One container running the threads program, in a project of its own."""
    return bed.launch(project=bed.project())


def tree(root: Path) -> dict[str, tuple[int, int, float]]:
    """Every path under `root` with its mode, size and mtime, symlinks not followed."""
    found = {}
    for folder, folders, files in os.walk(root):
        for name in folders + files:
            path = os.path.join(folder, name)
            info = os.lstat(path)
            found[os.path.relpath(path, root)] = (info.st_mode, info.st_size, info.st_mtime)
    return found


def test_ls_shows_the_container_with_its_project_and_state(running: LxdContainer):
    result = cli("ls")
    assert result.returncode == 0, result.stderr
    [line] = [line for line in result.stdout.decode().splitlines() if running.name in line]
    fields = line.split()
    assert fields[:4] == [
        f"lxd/{running.project}",
        f"{running.project}/{running.name}",
        running.name,
        str(running.pid),
    ]
    assert fields[4] == "running"

    result = cli("ls", "--json")
    assert result.returncode == 0, result.stderr
    listed = json.loads(result.stdout)
    [entry] = [c for c in listed if c["pid"] == running.pid]  # once: not again as lxc or process
    assert entry["runtime"] == "lxd"
    assert entry["runtime_namespace"] == running.project
    assert (entry["name"], entry["status"]) == (running.name, "running")
    assert entry["image"] == "cntr-tui slim demo"
    assert entry["command"] == "/app/threads"
    assert {"pid", "mnt", "user"} <= set(entry["namespaces"])


def test_attach_runs_a_command_in_it_and_leaves_nothing(running: LxdContainer):
    members = pid_namespace_members(running.pid)
    before = tree(running.root)
    script = "cat /var/lib/cntr/etc/os-release; hostname; test -x /usr/bin/gdb && echo host-tools"
    result = cli("attach", "-t", "lxd", str(running.pid), "--", "sh", "-c", script)
    assert result.returncode == 0, result.stderr
    lines = result.stdout.decode().splitlines()
    assert "ID=cntr-demo" in lines  # the container's own file, under the merged root
    assert lines[-2:] == [running.name, "host-tools"]  # its UTS name; the host's tools at /
    assert_nothing_left(running.pid, members)
    assert pid_namespace_members(running.pid) == members
    assert tree(running.root) == before, "the attach changed the container's root"


def test_gdb_batch_backtrace_shows_the_programs_frames(running: LxdContainer):
    members = pid_namespace_members(running.pid)
    before = tree(running.root)
    result = cli("gdb", "-t", "lxd", "--batch", "-ex", "bt", str(running.pid), timeout=120)
    assert result.returncode == 0, result.stderr
    out = result.stdout.decode()
    assert "in main () at threads.c:" in out, out
    assert "nanosleep" in out
    assert_nothing_left(running.pid, members)
    status = Path(f"/proc/{running.pid}/status").read_text()
    assert "TracerPid:\t0\n" in status, "the program is still traced"
    assert tree(running.root) == before, "gdb's session changed the container's root"


def test_attach_by_name_and_by_prefixed_word(running: LxdContainer):
    for word in (running.name, f"lxd:{running.name}"):
        result = cli("attach", word, "--", "hostname")
        assert result.returncode == 0, (word, result.stderr)
        assert result.stdout.decode().split() == [running.name]


def test_stopped_container_is_listed_as_stopped_never_as_running(bed: LxdBed):
    stopped = bed.launch()
    bed.stop(stopped)
    result = cli("ls", "--json", "-t", "lxd")
    assert result.returncode == 0, result.stderr
    assert stopped.name not in {c["name"] for c in json.loads(result.stdout)}
    everything = list_containers(["lxd"], include_stopped=True).containers
    [entry] = [c for c in everything if c.name == stopped.name]
    assert (entry.status, entry.pid, entry.id) == ("stopped", 0, f"default/{stopped.name}")


def test_stopped_container_is_not_a_target(bed: LxdBed):
    stopped = bed.launch()
    bed.stop(stopped)
    for command in (["attach", "-t", "lxd", stopped.name, "--", "true"], ["gdb", stopped.name]):
        result = cli(*command)
        err = result.stderr.decode()
        assert result.returncode != 0
        assert err.count("\n") == 1 and "Traceback" not in err, err
        assert f"lxd container {stopped.name} is stopped" in err, err


def test_paused_container_is_listed_paused_and_refused_in_one_line(bed: LxdBed):
    paused = bed.launch()
    lxc("pause", "--project", paused.project, paused.name)
    try:
        listed = json.loads(cli("ls", "--json", "-t", "lxd").stdout)
        [entry] = [c for c in listed if c["name"] == paused.name]
        assert (entry["status"], entry["pid"]) == ("paused", paused.pid)
        result = cli("attach", "-t", "lxd", str(paused.pid), "--", "true")
        err = result.stderr.decode()
        assert result.returncode != 0
        assert err.count("\n") == 1 and "Traceback" not in err, err
        assert f"lxd container {paused.name} is paused" in err and "(fix: " in err, err
    finally:
        lxc("start", "--project", paused.project, paused.name)  # thaws it: then deleted


async def test_the_tui_lists_it(running: LxdContainer):
    app = CntrApp()
    async with app.run_test(size=(160, 48)) as pilot:
        end = time.monotonic() + LIST_DEADLINE
        while True:
            rows = app.screen.query(ContainerTable)
            found = [c for table in rows for c in table.containers.values() if c.pid == running.pid]
            if found or time.monotonic() > end:
                break
            await pilot.pause(0.05)
    assert [(c.runtime, c.name, c.runtime_namespace) for c in found] == [
        ("lxd", running.name, running.project)
    ]
