"""libstdc++'s pretty printers for a container's C++ program (issue 16, "C++ and the
standard library"): /app/shapes's `inventory` thread holds a std::vector<int>, a
std::string, a std::map<std::string, int> and a vector of 100,000 ints as locals of
`inventory::keep_inventory`, which calls `inventory::count_round` every 100 ms. On
docker and a plain-namespace container, through gdb in an attach session (sysroot
/var/lib/cntr) and through the host's gdb (sysroot /proc/PID/root): the frame's locals,
a watch expression and its members (var-objects, bounded like gdb's printing), and
`cntr-tui snapshot --locals --json` show the containers' contents, not their _M_impl
members."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import uuid
from pathlib import Path

import pytest

from cntr_tui.demo import containers
from cntr_tui.gdb.attached import AttachLauncher
from cntr_tui.gdb.events import ConsoleOutput, Event
from cntr_tui.gdb.launch import HostLauncher, Launcher
from cntr_tui.gdb.placement import Placement
from cntr_tui.gdb.printers import (
    HostPrinters,
    find_host_printers,
    host_libstdcxx_version,
    printer_arguments,
)
from cntr_tui.gdb.session import GdbSession
from tests.support.cli import CNTR_TUI
from tests.support.proc import namespace_pid, tracer_of, wait_until
from tests.support.runtimes import TEST_PREFIX, require_runtime, start_program

VECTOR = "std::vector of length 3, capacity 3 = {1, 2, 3}"
STRING = '"rectangles"'
MAP = 'std::map with 2 elements = {["rectangle"] = 4, ["triangle"] = 3}'
PRINT_ELEMENTS = 200  # gdb's default "print elements": so many shown, then "..."
FIRST_ELEMENTS = ", ".join(map(str, range(PRINT_ELEMENTS)))
MANY = f"std::vector of length 100000, capacity 100000 = {{{FIRST_ELEMENTS}...}}"
EXPECTED = {"counts": VECTOR, "label": STRING, "sides": MAP, "many": MANY}
HOLDER = "inventory::keep_inventory"


async def start_launcher(where: str, host_pid: int) -> Launcher:
    if where == "session":
        return await AttachLauncher.start(host_pid)
    return HostLauncher(target_host_pid=host_pid)


@pytest.mark.parametrize(
    ("runtime", "where"), [("docker", "session"), ("process", "session"), ("docker", "host")]
)
async def test_locals_and_watch_show_standard_containers(runtime, where, start_container):
    container = start_container(runtime, program="/app/shapes")
    launcher = await start_launcher(where, container.pid)
    session = await GdbSession.start(launcher)
    try:
        pid = namespace_pid(container.pid) if where == "session" else container.pid
        attached = await session.attach(pid, host_pid=container.pid)
        assert attached.ok, attached.error
        assert (await session.break_insert("inventory::count_round")).ok
        assert (await session.continue_()).ok
        stop = (await session.wait_stopped()).unwrap()
        frames = (await session.backtrace(stop.thread_id)).unwrap()
        assert frames[1].function and frames[1].function.startswith(HOLDER)
        found = (await session.locals(stop.thread_id, 1)).unwrap()
        assert {v.name: v.value for v in found} == EXPECTED
        # the watch pane: the expression's value, then its members (a var-object)
        watched = (await session.evaluate("counts", stop.thread_id, 1)).unwrap()
        assert watched == VECTOR
        members = (await session.children("counts", stop.thread_id, 1)).unwrap()
        assert [(m.name, m.value) for m in members] == [("[0]", "1"), ("[1]", "2"), ("[2]", "3")]
        pairs = (await session.children("sides", stop.thread_id, 1)).unwrap()
        assert [m.value for m in pairs] == ['"rectangle"', "4", '"triangle"', "3"]
        # a var-object's children are bounded like gdb's printing (one more: "there are more")
        many = (await session.children("many", stop.thread_id, 1)).unwrap()
        assert [m.value for m in many] == [str(n) for n in range(PRINT_ELEMENTS + 1)]
        assert (await session.detach()).ok
    finally:
        await session.close()
    assert wait_until(lambda: tracer_of(container.pid) == 0)


async def test_a_host_process_gets_the_same_bound(demo_rootfs: Path):
    """The demo's binary run in our own root, with the host's libstdc++ (no sysroot:
    through gdbserver gdb names it `target:/...`, which its auto-load does not match):
    the same values, and the members of a long vector bounded as in a container."""
    program = subprocess.Popen([str(demo_rootfs / "app/shapes")], stdout=subprocess.PIPE)
    try:
        assert program.stdout is not None and program.stdout.readline().startswith(b"ready")
        session = await GdbSession.start(HostLauncher(target_host_pid=program.pid))
        try:
            assert session.placement.container_root == ""
            assert (await session.attach(program.pid)).ok
            assert (await session.break_insert("inventory::count_round")).ok
            assert (await session.continue_()).ok
            stop = (await session.wait_stopped()).unwrap()
            found = (await session.locals(stop.thread_id, 1)).unwrap()
            assert {v.name: v.value for v in found} == EXPECTED
            many = (await session.children("many", stop.thread_id, 1)).unwrap()
            assert len(many) == PRINT_ELEMENTS + 1
            assert (await session.detach()).ok
        finally:
            await session.close()
    finally:
        program.kill()
        program.wait()


@pytest.mark.parametrize("runtime", ["docker", "process"])
def test_snapshot_locals_show_standard_containers(runtime, start_container):
    container = start_container(runtime, program="/app/shapes")
    word = container.name if runtime == "docker" else str(container.pid)
    result = subprocess.run(
        [*CNTR_TUI, "snapshot", word, "--json", "--locals"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    threads = json.loads(result.stdout)["threads"]
    keeper = next(t for t in threads if t["name"] == "inventory")
    frame = next(f for f in keeper["frames"] if (f["function"] or "").startswith(HOLDER))
    assert frame["locals"] is not None, keeper
    assert {v["name"]: v["value"] for v in frame["locals"]} == EXPECTED
    assert wait_until(lambda: tracer_of(container.pid) == 0)


def root_copy(demo_rootfs: Path, folder: Path) -> Path:
    """A copy of the demo root to change (containers get their own copy of it)."""
    root = folder / "root"
    shutil.copytree(demo_rootfs, root, symlinks=True)
    return root


def start_plain(root: Path, program: str) -> containers.StartedContainer:
    require_runtime("process")
    return containers.start_process(f"{TEST_PREFIX}printers-{uuid.uuid4().hex[:8]}", root, program)


async def stopped_in(container: containers.StartedContainer, function: str, texts: list[str]):
    """A gdb session in an attach session on `container`, stopped at `function`."""
    session = await GdbSession.start(await AttachLauncher.start(container.pid))

    def keep_text(event: Event) -> None:
        if isinstance(event, ConsoleOutput):
            texts.append(event.text)

    session.add_listener(keep_text)
    attached = await session.attach(namespace_pid(container.pid), host_pid=container.pid)
    assert attached.ok, attached.error
    assert (await session.break_insert(function)).ok
    assert (await session.continue_()).ok
    return session, (await session.wait_stopped()).unwrap()


async def test_another_libstdcxx_version_is_noted(demo_rootfs: Path, tmp_path: Path):
    """The container's libstdc++.so.6 links to a 6.0.29 (a copy of the host's, renamed):
    gdb's console says the printers are from the host's version; they still print."""
    host_version = host_libstdcxx_version()
    assert host_version and host_version != "6.0.29"
    root = root_copy(demo_rootfs, tmp_path)
    library = root / "lib/x86_64-linux-gnu/libstdc++.so.6"
    library.rename(library.with_name("libstdc++.so.6.0.29"))
    os.symlink("libstdc++.so.6.0.29", library)
    container = start_plain(root, "/app/shapes")
    texts: list[str] = []
    try:
        session, stop = await stopped_in(container, "inventory::count_round", texts)
        try:
            found = (await session.locals(stop.thread_id, 1)).unwrap()
            assert {v.name: v.value for v in found}["counts"] == VECTOR
            assert (await session.detach()).ok
        finally:
            await session.close()
    finally:
        container.remove()
    notes = [text for text in texts if "pretty printers are from" in text]
    assert len(notes) == 1, texts
    assert "libstdc++ is 6.0.29" in notes[0] and f"libstdc++ {host_version}" in notes[0]


def test_printers_that_do_not_load_say_so_in_one_line(demo_rootfs: Path, tmp_path: Path):
    """A printers' folder without libstdcxx (a broken host install): gdb's console says
    so in one line at the library's load, no traceback."""
    program = start_program(demo_rootfs, "shapes")
    try:
        missing = str(tmp_path / "no-printers")
        root = f"/proc/{program.pid}/root"  # the program is chrooted: its files are there
        arguments = printer_arguments(Placement(container_root=root), HostPrinters(missing))
        sysroot = ["-iex", f"set sysroot {root}"]  # as HostLauncher's gdb has it
        target = [f"{root}/app/shapes", "-p", str(program.pid)]
        result = subprocess.run(
            ["gdb", "--nx", "--batch", *sysroot, *arguments, *target],
            capture_output=True,
            text=True,
            timeout=60,
        )
    finally:
        program.kill()
        program.wait()
    output = result.stdout + result.stderr
    said = [line for line in output.splitlines() if line.startswith("cntr-tui: no libstdc++")]
    assert len(said) == 1 and missing in said[0] and "libstdcxx" in said[0], output
    assert "Traceback" not in output


RUST_PROGRAM = """\
use std::io::Write;
#[inline(never)]
fn count_round(counts: &Vec<i32>) -> usize {
    counts.len()
}
fn main() {
    let counts = vec![1, 2, 3];
    let label = String::from("rectangles");
    println!("ready");
    std::io::stdout().flush().unwrap();
    loop {
        std::hint::black_box(count_round(&counts));
        std::hint::black_box(&label);
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
}
"""


async def test_rust_values_through_the_hosts_rust_printers(demo_rootfs: Path, tmp_path: Path):
    """A Rust program (built here by the host's rustc, run in a plain-namespace container
    from the demo root): its Vec and String show through the toolchain's printers."""
    rustc = shutil.which("rustc")
    if rustc is None or find_host_printers().rust is None:
        pytest.skip("the host has no Rust toolchain with gdb printers")
    root = root_copy(demo_rootfs, tmp_path)
    source = tmp_path / "inventory.rs"
    source.write_text(RUST_PROGRAM)
    subprocess.run(
        [rustc, "-g", "-C", "opt-level=0", "-o", str(root / "app/inventory"), str(source)],
        check=True,
        capture_output=True,
        timeout=120,
    )
    container = start_plain(root, "/app/inventory")
    try:
        session, stop = await stopped_in(container, "inventory::count_round", [])
        try:
            found = (await session.locals(stop.thread_id, 1)).unwrap()
            values = {v.name: v.value for v in found}
            assert values == {"counts": "Vec(size=3) = {1, 2, 3}", "label": STRING}
            assert (await session.detach()).ok
        finally:
            await session.close()
    finally:
        container.remove()
