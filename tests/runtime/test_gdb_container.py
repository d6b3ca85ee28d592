"""gdb inside an attach session on real containers: the engine and `cntr-tui gdb`."""

from __future__ import annotations

import asyncio
import os
import subprocess

import pytest

from cntr_tui.gdb.attached import AttachLauncher
from cntr_tui.gdb.elf import read_elf
from cntr_tui.gdb.events import ConsoleOutput, Event, LogOutput, SessionEnded
from cntr_tui.gdb.session import GdbSession
from tests.support.cli import BARE_ENVIRONMENT, CNTR_TUI, NAMESPACE_WARNING
from tests.support.gdb import session_end
from tests.support.proc import (
    namespace_pid,
    process_state,
    read_byte,
    read_u64,
    running,
    tracer_of,
    wait_until,
)
from tests.support.runtimes import ALL_RUNTIMES


def run_gdb_command(*arguments: str) -> subprocess.CompletedProcess[str]:
    """`cntr-tui gdb ARGUMENTS...`, its output captured."""
    return subprocess.run(
        [*CNTR_TUI, "gdb", *arguments], capture_output=True, text=True, timeout=60
    )


def container_lwps(host_pid: int) -> set[int]:
    return {namespace_pid(int(task)) for task in os.listdir(f"/proc/{host_pid}/task")}


async def open_session(host_pid: int, texts: list[str]) -> GdbSession:
    launcher = await AttachLauncher.start(host_pid)
    session = await GdbSession.start(launcher)

    def keep_text(event: Event) -> None:
        if isinstance(event, ConsoleOutput | LogOutput):
            texts.append(event.text)

    session.add_listener(keep_text)
    attached = await session.attach(namespace_pid(host_pid), host_pid=host_pid)
    assert attached.ok, attached.error
    return session


@pytest.mark.parametrize("runtime", ALL_RUNTIMES)
async def test_threads_with_container_lwps_and_libraries_under_var_lib_cntr(
    runtime: str, start_container
):
    container = start_container(runtime)
    texts: list[str] = []
    session = await open_session(container.pid, texts)
    try:
        threads = (await session.threads()).unwrap()
        assert sorted(t.name or "" for t in threads) == [
            "threads",
            "worker-0",
            "worker-1",
            "worker-2",
        ]
        assert {t.lwp for t in threads} == container_lwps(container.pid)
        main_thread = next(t for t in threads if t.name == "threads")
        assert main_thread.lwp == namespace_pid(container.pid)
        frames = (await session.backtrace(main_thread.id)).unwrap()
        main_frame = next(f for f in frames if f.function == "main")
        assert main_frame.fullname == "/var/lib/cntr/app/src/threads.c" and main_frame.line
        libraries = (await session.shared_libraries()).unwrap()
        libc = next(lib for lib in libraries if "libc.so" in lib.path)
        assert libc.host_path.startswith("/var/lib/cntr/") and libc.symbols_loaded
        assert (await session.detach()).ok
    finally:
        await session.close()
    assert NAMESPACE_WARNING not in "".join(texts)
    assert wait_until(lambda: tracer_of(container.pid) == 0)


async def test_breakpoint_backtrace_source_locals_then_detach_in_docker(start_container):
    container = start_container("docker")
    pid = container.pid
    texts: list[str] = []
    session = await open_session(pid, texts)
    try:
        assert '"/var/lib/cntr"' in (await session.cli("show sysroot")).unwrap()
        debug_dirs = (await session.cli("show debug-file-directory")).unwrap()
        assert '"/usr/lib/debug:/var/lib/cntr/usr/lib/debug"' in debug_dirs
        assert "off" in (await session.cli("show pagination")).unwrap()
        assert "off" in (await session.cli("show confirm")).unwrap()
        assert "/app/src" in (await session.cli("show substitute-path")).unwrap()
        assert (await session.break_insert("tick")).ok
        assert (await session.continue_()).ok
        stop = (await session.wait_stopped()).unwrap()
        assert stop.reason == "breakpoint-hit"
        frames = (await session.backtrace(stop.thread_id)).unwrap()
        assert [f.function for f in frames[:2]] == ["tick", "worker_main"]
        assert frames[0].fullname == "/var/lib/cntr/app/src/threads.c" and frames[0].line == 38
        source = session.source_path_on_host(frames[0].fullname)
        with open(source) as text:
            assert "w->iterations++" in text.read().splitlines()[37]
        listing = (await session.cli("list threads.c:38,38")).unwrap()
        assert "w->iterations++" in listing
        members = {m.name: m.value for m in (await session.children("*w")).unwrap()}
        assert set(members) == {"id", "name", "iterations", "total"}
        assert int(members["iterations"] or "0") >= 0
        counter = int((await session.evaluate("&workers[0].iterations")).unwrap().split()[0], 16)
        assert (await session.continue_()).ok
        assert (await session.wait_stopped()).unwrap().reason == "breakpoint-hit"
        assert (await session.detach()).ok
    finally:
        await session.close()
    assert NAMESPACE_WARNING not in "".join(texts)
    assert wait_until(lambda: tracer_of(pid) == 0)
    before = read_u64(pid, counter)
    assert wait_until(lambda: read_u64(pid, counter) > before), "the program stopped ticking"
    diff = subprocess.run(["docker", "diff", container.name], capture_output=True, text=True)
    assert diff.returncode == 0 and diff.stdout.strip() == ""  # nothing written inside


async def test_cpp_frames_demangled_and_symbol_report_in_a_container(start_container):
    container = start_container("docker", program="/app/shapes")
    session = await open_session(container.pid, [])
    try:
        breakpoint_ = (await session.break_insert("geometry::total_area<int>")).unwrap()
        assert breakpoint_.function and "geometry::total_area<int>" in breakpoint_.function
        assert (await session.continue_()).ok
        stop = (await session.wait_stopped()).unwrap()
        frames = (await session.backtrace(stop.thread_id)).unwrap()
        assert frames[0].function and frames[0].function.startswith("geometry::total_area<int>")
        assert frames[0].fullname == "/var/lib/cntr/app/src/shapes.cpp"
        report = {entry.path: entry for entry in (await session.symbol_report()).unwrap()}
        program = report["/app/shapes"]
        assert program.status == "debug-info" and program.source == "embedded"
        assert program.gdb_path == "/var/lib/cntr/app/shapes"
        stdcxx = next(entry for path, entry in report.items() if "libstdc++" in path)
        assert stdcxx.status in ("symbols", "dynamic") and stdcxx.problem and stdcxx.fix
        assert stdcxx.build_id and f".build-id/{stdcxx.build_id[:2]}/" in stdcxx.fix
        assert (await session.detach()).ok
    finally:
        await session.close()


async def test_container_killed_mid_session_ends_it_cleanly(start_container):
    container = start_container("docker")
    launcher = await AttachLauncher.start(container.pid)
    server = launcher.session.root.server if launcher.session.root else None
    session = await GdbSession.start(launcher)
    ended: list[SessionEnded] = []
    session.add_listener(lambda e: ended.append(e) if isinstance(e, SessionEnded) else None)
    try:
        attached = await session.attach(namespace_pid(container.pid), host_pid=container.pid)
        assert attached.ok, attached.error
        assert (await session.continue_()).ok
        await asyncio.to_thread(container.remove)
        async with asyncio.timeout(20):
            while not ended:
                await asyncio.sleep(0.05)
        assert ended[0].kind in ("inferior-exited", "container-stopped", "gdb-exited")
        assert not (await session.evaluate("1")).ok
    finally:
        await session.close()
    if server is not None:
        assert wait_until(lambda: not running(server), 15), "the file server is still running"


async def test_file_server_killed_leaves_the_program_running_without_traps(start_container):
    container = start_container("docker")
    pid = container.pid
    launcher = await AttachLauncher.start(pid)
    assert launcher.session.root is not None
    server = launcher.session.root.server
    session = await GdbSession.start(launcher)
    try:
        attached = await session.attach(namespace_pid(pid), host_pid=pid)
        assert attached.ok, attached.error
        breakpoint_ = (await session.break_insert("on_term")).unwrap()  # never reached
        assert breakpoint_.address is not None
        original = (await session.read_memory(breakpoint_.address, 1)).unwrap().data
        counter = int((await session.evaluate("&workers[2].iterations")).unwrap().split()[0], 16)
        assert (await session.continue_()).ok
        assert wait_until(lambda: read_byte(pid, breakpoint_.address) == b"\xcc")
        os.kill(server, 9)
        ended = await session_end(session)
        assert ended.kind == "file-server-lost", ended
    finally:
        await session.close()
    assert os.path.exists(f"/proc/{pid}/status") and running(pid)
    assert wait_until(lambda: tracer_of(pid) == 0)
    assert read_byte(pid, breakpoint_.address) == original != b"\xcc"
    assert wait_until(lambda: process_state(pid) in ("S", "R")), process_state(pid)
    before = read_u64(pid, counter)
    assert wait_until(lambda: read_u64(pid, counter) > before), "the program stopped ticking"


def test_cli_batch_thread_apply_all_bt(start_container):
    container = start_container("docker")
    result = run_gdb_command(container.name, "--batch", "-ex", "thread apply all bt")
    assert result.returncode == 0, result.stderr
    output = result.stdout
    assert output.count("\nThread ") == 4
    # gdbserver traces in the container's PID namespace: "Thread PID.LWP", PID 1 there
    assert '(Thread 1.1 "threads")' in output
    for worker in ("worker-0", "worker-1", "worker-2"):
        assert f'"{worker}"' in output
    assert "worker_main (" in output and "threads.c:" in output
    assert NAMESPACE_WARNING not in output + result.stderr
    assert "no attach session" not in result.stderr
    assert wait_until(lambda: tracer_of(container.pid) == 0)
    assert os.path.exists(f"/proc/{container.pid}")


@pytest.mark.parametrize("runtime", ALL_RUNTIMES)
def test_cli_batch_backtraces_every_thread_on_every_runtime(runtime: str, start_container):
    container = start_container(runtime)
    word = str(container.pid) if runtime in ("process", "nspawn") else container.name
    result = run_gdb_command(word, "--batch", "-ex", "thread apply all bt")
    assert result.returncode == 0, result.stderr
    assert result.stdout.count("\nThread ") == 4
    assert all(f'"worker-{n}"' in result.stdout for n in range(3))
    assert "worker_main (" in result.stdout and "main () at threads.c:" in result.stdout
    assert "gdbserver could not be used" not in result.stderr
    assert NAMESPACE_WARNING not in result.stdout + result.stderr
    assert wait_until(lambda: tracer_of(container.pid) == 0) and running(container.pid)


def test_cli_batch_traces_through_gdbserver_in_a_container_without_dev_null(start_container):
    """gdb runs its bridge to gdbserver with $SHELL (the container's, unless we say), and
    dash gives a background job /dev/null before its own redirections: here both would
    leave gdb without gdbserver (as in CI, whose environment has no SHELL)."""
    container = start_container("process", env=BARE_ENVIRONMENT)
    assert not os.path.exists(f"/proc/{container.pid}/root/dev/null")
    result = run_gdb_command(str(container.pid), "--batch", "-ex", "bt")
    assert result.returncode == 0, result.stderr
    assert "main () at threads.c:" in result.stdout
    assert "gdbserver could not be used" not in result.stderr, result.stderr
    assert wait_until(lambda: tracer_of(container.pid) == 0) and running(container.pid)


def test_cli_batch_for_a_non_root_container_user_traces_through_gdbserver(start_container):
    """gdb runs as the container's user (1000 here): it must still reach gdbserver's
    pipes (ours, made root's) through /proc, or it would trace the process itself."""
    container = start_container("docker", user="1000:1000")
    assert os.stat(f"/proc/{container.pid}").st_uid == 1000
    result = run_gdb_command(container.name, "--batch", "-ex", "info threads")
    assert result.returncode == 0, result.stderr
    assert 'Thread 1.1 "threads"' in result.stdout  # gdbserver's thread ids: PID.LWP
    assert "gdbserver could not be used" not in result.stderr
    assert wait_until(lambda: tracer_of(container.pid) == 0) and running(container.pid)


def test_cli_batch_with_pid_in_the_container(start_container):
    container = start_container("docker")
    ok = run_gdb_command(container.name, "--pid", "1", "--batch", "-ex", "info inferiors")
    assert ok.returncode == 0, ok.stderr
    assert "process 1 " in ok.stdout and "/var/lib/cntr/app/threads" in ok.stdout
    missing = run_gdb_command(container.name, "--pid", "4242", "--batch", "-ex", "bt")
    assert missing.returncode != 0
    assert missing.stderr == "cntr-tui: no process 4242 in the container's PID namespace\n"


def test_cli_gdb_unknown_container_is_one_line_error():
    result = run_gdb_command("no-such-container-cntr-test", "--batch", "-ex", "bt")
    assert result.returncode != 0
    assert result.stderr.startswith("cntr-tui: ") and result.stderr.count("\n") == 1


def test_cli_batch_fills_then_reuses_gdbs_index_cache_on_the_host(start_container, tmp_path):
    container = start_container("docker")
    cache = tmp_path / "index"
    program = read_elf(f"/proc/{container.pid}/root/app/threads")
    assert program is not None and program.build_id
    command = [*CNTR_TUI, "gdb", container.name, "--batch", "-ex", "bt"]
    environment = {**os.environ, "CNTR_TUI_GDB_INDEX_CACHE": str(cache)}

    first = subprocess.run(command, capture_output=True, text=True, timeout=60, env=environment)
    assert first.returncode == 0, first.stderr
    index = cache / f"{program.build_id}.gdb-index"
    assert index.is_file() and index.stat().st_size > 0
    written = index.stat().st_mtime_ns

    second = subprocess.run(command, capture_output=True, text=True, timeout=60, env=environment)
    assert second.returncode == 0, second.stderr
    assert "main () at threads.c:" in second.stdout  # symbols from the cached index
    assert index.stat().st_mtime_ns == written  # read, not written again
    in_container = subprocess.run(
        ["find", f"/proc/{container.pid}/root/", "-xdev", "-name", "*.gdb-index"],
        capture_output=True,
        text=True,
    )
    assert in_container.stdout == ""

    environment["CNTR_TUI_GDB_INDEX_CACHE"] = "off"
    shown = [*command, "-ex", "show index-cache enabled"]
    third = subprocess.run(shown, capture_output=True, text=True, timeout=60, env=environment)
    assert third.returncode == 0, third.stderr
    assert "The index cache is off." in third.stdout and "main () at threads.c:" in third.stdout
