"""Goroutines of the Go demo program (demo/programs/goroutines.go) in docker and in plain
namespaces, read through the gdb session attached to it (languages/go.py), and the
stripped copy: one line saying why, the native stack still there."""

from __future__ import annotations

import os
import subprocess
import uuid
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import pytest

from cntr_tui.demo import containers
from cntr_tui.demo.go_root import PROGRAM, SOURCE, STRIPPED_PROGRAM, build_go_root
from cntr_tui.gdb.attached import AttachLauncher
from cntr_tui.gdb.launch import HostLauncher
from cntr_tui.gdb.session import GdbSession
from cntr_tui.languages.go import (
    go_binary,
    goroutine_stack,
    list_goroutines,
    process_executable,
)
from cntr_tui.languages.records import Goroutine
from cntr_tui.linux.proc_status import status_fields
from tests.support.proc import namespace_pid, read_u64, tracer_of, wait_until
from tests.support.runtimes import TEST_PREFIX, StartContainer, require_runtime

RUNTIMES = ("docker", "process")
# the planted goroutines: function -> (state, wait reason, the statement it waits in)
PLANTED = {
    "main.waitForOrders": ("waiting", "chan receive", "for order := range orders {"),
    "main.sleeper": ("waiting", "sleep", "time.Sleep(time.Hour)"),
    "main.main": ("waiting", "select", "select {"),
}
SPINNER = ("main.spinner", "atomic.AddUint64(&spins, 1)")


@pytest.fixture(scope="module")
def go_root() -> Path:
    return build_go_root()


def source_line(root: Path, statement: str) -> int:
    lines = (root / "app/src" / SOURCE).read_text().splitlines()
    return next(number for number, text in enumerate(lines, 1) if statement in text)


def shown_line(session: GdbSession, file: str, line: int) -> str:
    """Line `line` of `file` as the source pane would read it (from the host)."""
    with open(session.source_path_on_host(file)) as source:
        return source.read().splitlines()[line - 1]


def wait_docker_ready(name: str) -> None:
    """The program's `ready` line, read from the container's log as it comes."""
    logs = subprocess.Popen(["docker", "logs", "-f", name], stdout=subprocess.PIPE)
    try:
        containers.wait_ready(logs, f"docker container {name}")
    finally:
        containers.terminate(logs)


@pytest.fixture
def start_go(go_root: Path) -> Iterator[StartContainer]:
    """`start_go(runtime, program)` -> a started container of the Go root, removed at the
    end even when the test fails."""
    started: list[containers.StartedContainer] = []

    def start(runtime: str, program: str = PROGRAM) -> containers.StartedContainer:
        require_runtime(runtime)
        name = f"{TEST_PREFIX}go-{runtime}-{uuid.uuid4().hex[:8]}"
        container = containers.STARTERS[runtime](name, go_root, program)
        started.append(container)
        if runtime == "docker":
            wait_docker_ready(name)
        return container

    yield start
    for container in reversed(started):
        container.remove()


async def attached_session(host_pid: int) -> GdbSession:
    launcher = await AttachLauncher.start(host_pid)
    session = await GdbSession.start(launcher)
    attached = await session.attach(namespace_pid(host_pid), host_pid=host_pid)
    if not attached.ok:
        await session.close()
        pytest.fail(f"attach failed: {attached.error}")
    return session


def thread_report(pid: int) -> str:
    """Every thread's state and signal masks from /proc, and the process's counter
    reading: what a failed "the program runs on" check prints, so it explains itself."""
    lines = []
    try:
        tasks = sorted(os.listdir(f"/proc/{pid}/task"), key=int)
    except OSError as error:
        return f"no /proc/{pid}/task: {error}"
    for task in tasks:
        try:
            fields = status_fields(f"{pid}/task/{task}")
            with open(f"/proc/{pid}/task/{task}/stat") as stat:
                after_name = stat.read().rpartition(")")[2].split()
        except OSError as error:
            lines.append(f"{task}: gone ({error})")
            continue
        masks = " ".join(f"{key}={fields.get(key)}" for key in ("SigPnd", "ShdPnd", "SigBlk"))
        lines.append(
            f"{task}: {fields.get('State')} TracerPid={fields.get('TracerPid')} {masks}"
            f" utime={after_name[11]} stime={after_name[12]} wchan={wchan(pid, task)}"
        )
    return "\n".join(lines)


def wchan(pid: int, task: str) -> str:
    try:
        with open(f"/proc/{pid}/task/{task}/wchan") as found:
            return found.read() or "-"
    except OSError:
        return "?"


def by_function(goroutines: tuple[Goroutine, ...]) -> dict[str, list[Goroutine]]:
    found: dict[str, list[Goroutine]] = {}
    for goroutine in goroutines:
        found.setdefault(goroutine.function, []).append(goroutine)
    return found


@pytest.mark.parametrize("runtime", RUNTIMES)
async def test_goroutines_listed_with_their_functions_and_one_stack_opens(
    runtime: str, start_go: StartContainer, go_root: Path
):
    container = start_go(runtime)
    binary = go_binary(process_executable(container.pid))
    assert binary is not None and binary.has_dwarf and binary.version
    assert binary.version.startswith("go1.")
    session = await attached_session(container.pid)
    try:  # the threads while it is stopped (the Go runtime starts more as it likes)
        lwps = {namespace_pid(int(task)) for task in os.listdir(f"/proc/{container.pid}/task")}
        stacks = await list_goroutines(session, binary)
        assert stacks.missing is None, stacks.missing
        assert stacks.language == "go" and stacks.version == binary.version
        found = by_function(stacks.goroutines)
        for function, (state, reason, statement) in PLANTED.items():
            assert len(found.get(function, [])) == 1, (function, stacks.goroutines)
            goroutine = found[function][0]
            assert (goroutine.state, goroutine.wait_reason) == (state, reason), goroutine
            assert goroutine.file == f"/var/lib/cntr/app/src/{SOURCE}", goroutine
            assert goroutine.line == source_line(go_root, statement), goroutine
            assert statement in shown_line(session, goroutine.file, goroutine.line)
            assert goroutine.lwp is None
        assert SPINNER[0] in found, stacks.goroutines
        spinner = found[SPINNER[0]][0]
        assert spinner.state in ("running", "runnable"), spinner
        assert spinner.line == source_line(go_root, SPINNER[1])
        assert (spinner.lwp in lwps) if spinner.state == "running" else spinner.lwp is None
        assert len({g.id for g in stacks.goroutines}) == len(stacks.goroutines)

        sleeper = found["main.sleeper"][0]
        frames = (await goroutine_stack(session, binary, sleeper.id)).unwrap()
        functions = [frame.function for frame in frames]
        assert functions[0] == "runtime.gopark", functions
        assert "time.Sleep" in functions and "main.sleeper" in functions, functions
        assert functions.index("time.Sleep") < functions.index("main.sleeper")
        own = frames[functions.index("main.sleeper")]
        assert own.line == source_line(go_root, "time.Sleep(time.Hour)") and own.address

        spinning = (await goroutine_stack(session, binary, spinner.id)).unwrap()
        assert "main.spinner" in [frame.function for frame in spinning]
        assert not (await goroutine_stack(session, binary, 10**9)).ok

        again = await list_goroutines(session, binary)  # the support is loaded once
        assert by_function(again.goroutines).keys() == found.keys()
        threads = (await session.threads()).unwrap()  # gdb's own view is untouched
        assert {t.lwp for t in threads} == lwps
        spins = int((await session.evaluate("&'main.spins'")).unwrap().split()[0], 16)
        assert (await session.detach()).ok
    finally:
        await session.close()
    assert wait_until(lambda: tracer_of(container.pid) == 0), thread_report(container.pid)
    before = read_u64(container.pid, spins)  # nothing was written: the program runs on
    moving = wait_until(lambda: read_u64(container.pid, spins) > before)
    assert moving, f"spins {before} -> {read_u64(container.pid, spins)}\n" + thread_report(
        container.pid
    )


async def test_the_host_gdb_finds_the_thread_of_a_running_goroutine(start_go: StartContainer):
    """The fallback placement: the host's gdb, which names threads by host TIDs where the
    Go runtime records the program's own (m.procid)."""
    container = start_go("process")
    binary = go_binary(process_executable(container.pid))
    assert binary is not None
    session = await GdbSession.start(HostLauncher(target_host_pid=container.pid))
    try:
        assert (await session.attach(container.pid)).ok
        tasks = os.listdir(f"/proc/{container.pid}/task")  # while it is stopped
        tids = {int(task): namespace_pid(int(task)) for task in tasks}
        stacks = await list_goroutines(session, binary)
        assert stacks.missing is None, stacks.missing
        found = by_function(stacks.goroutines)
        assert PLANTED.keys() <= found.keys()
        on_threads = [g for g in stacks.goroutines if g.lwp is not None]
        assert on_threads and {g.lwp for g in on_threads} <= set(tids.values())
        threads = {t.lwp: t for t in (await session.threads()).unwrap()}
        for goroutine in on_threads:  # each stack is its thread's, as gdb unwinds it
            host_tid = next(host for host, own in tids.items() if own == goroutine.lwp)
            thread = threads.get(host_tid) or threads[goroutine.lwp]
            native = (await session.backtrace(thread.id)).unwrap()
            frames = (await goroutine_stack(session, binary, goroutine.id)).unwrap()
            assert frames[0].address == native[0].address, (goroutine, frames[0], native[0])
        assert (await session.detach()).ok
    finally:
        await session.close()


@pytest.mark.parametrize("runtime", RUNTIMES)
async def test_stripped_binary_gives_the_missing_line_and_the_native_stack(
    runtime: str, start_go: StartContainer
):
    container = start_go(runtime, STRIPPED_PROGRAM)
    binary = go_binary(process_executable(container.pid))
    assert binary is not None and not binary.has_dwarf
    session = await attached_session(container.pid)
    try:
        stacks = await list_goroutines(session, binary)
        assert stacks.language == "go" and not stacks.goroutines
        assert stacks.missing and "no DWARF" in stacks.missing and "-s -w" in stacks.missing
        assert "\n" not in stacks.missing
        assert not (await goroutine_stack(session, binary, 1)).ok
        # the same program with a release whose runtime-gdb.py the host lacks
        unknown = replace(binary, has_dwarf=True, version="go1.99.1", gdb_script=None)
        other = await list_goroutines(session, unknown)
        assert other.missing and "no runtime-gdb.py for Go 1.99" in other.missing
        assert "golang-1.99-src" in other.missing and not other.goroutines
        threads = (await session.threads()).unwrap()
        assert len(threads) >= 2
        main = next(t for t in threads if t.lwp == namespace_pid(container.pid))
        frames = (await session.backtrace(main.id)).unwrap()
        assert frames and frames[0].address  # symbols: .gopclntab, not .symtab
        assert (await session.detach()).ok
    finally:
        await session.close()


def test_a_program_of_no_go_is_not_taken_for_one():
    assert go_binary("/bin/busybox") is None
    assert go_binary("/nonexistent") is None
