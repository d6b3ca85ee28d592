"""Fork and exec catchpoints, and a frame without debug info, against real gdb
(gdbserver and native) with a tiny program built by the test (programs/forker.c: it
forks a child that exits every 100 ms, and execs itself again on SIGUSR1)."""

from __future__ import annotations

import os
import signal
import subprocess
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest

from cntr_tui.gdb.launch import HostLauncher
from cntr_tui.gdb.session import GdbSession
from cntr_tui.linux.proc_status import status_fields

SOURCE = Path(__file__).parent / "programs/forker.c"


@pytest.fixture(scope="module")
def binaries(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """forker built with -g -O0 (as the demo programs are) and without debug info."""
    folder = tmp_path_factory.mktemp("forker")
    built = {}
    for name, flags in (("forker", ["-g", "-O0"]), ("forker-nodebug", ["-O0"])):
        built[name] = folder / name
        subprocess.run(["gcc", *flags, "-o", str(built[name]), str(SOURCE)], check=True)
    return built


@pytest.fixture
def program(request, binaries) -> Iterator[subprocess.Popen[bytes]]:
    process = subprocess.Popen([str(binaries[request.param])], stdout=subprocess.PIPE)
    assert process.stdout is not None and process.stdout.readline().startswith(b"ready")
    yield process
    process.kill()
    process.wait()


@pytest.fixture(params=["gdbserver", "native"])
async def session(request, program) -> AsyncIterator[GdbSession]:
    gdb = await GdbSession.start(HostLauncher(target_host_pid=program.pid, tracer=request.param))
    try:
        attached = await gdb.attach(program.pid)
        assert attached.ok, attached.error
        yield gdb
    finally:
        await gdb.close()


async def go(session: GdbSession):
    assert (await session.continue_()).ok
    return (await session.wait_stopped()).unwrap()


@pytest.mark.parametrize("program", ["forker"], indirect=True)
async def test_a_fork_catchpoint_stops_with_the_child_then_exec_with_the_program(
    session: GdbSession, program, binaries
):
    fork = (await session.catch_insert("fork")).unwrap()
    assert fork.kind == "catchpoint" and fork.what == "fork"
    stop = await go(session)
    assert stop.reason == "fork" and stop.breakpoint_number == fork.number
    child = int(stop.detail or "0")
    assert int(status_fields(f"{child}")["PPid"]) == program.pid  # held by gdb till resumed
    assert (await session.break_delete(fork.number)).ok
    exec_ = (await session.catch_insert("exec")).unwrap()
    assert exec_.kind == "catchpoint" and exec_.what == "exec"
    assert (await session.cli("handle SIGUSR1 nostop noprint pass")).ok
    assert (await session.continue_()).ok
    os.kill(program.pid, signal.SIGUSR1)
    stop = (await session.wait_stopped()).unwrap()
    assert stop.reason == "exec" and stop.breakpoint_number == exec_.number
    assert stop.detail == str(binaries["forker"])
    listed = (await session.breakpoints()).unwrap()
    assert [(b.number, b.what, b.hits) for b in listed] == [
        (exec_.number, f"exec {binaries['forker']}", 1)
    ]


@pytest.mark.parametrize("program", ["forker-nodebug"], indirect=True)
async def test_disassembly_of_a_function_without_line_info_has_no_lines(session: GdbSession):
    stop_at = (await session.break_insert("fork_one")).unwrap()
    stop = await go(session)
    assert stop.breakpoint_number == stop_at.number and stop.frame is not None
    assert stop.frame.function == "fork_one" and stop.frame.line is None
    for with_source in (True, False):
        listed, pc = (await session.disassemble(with_source=with_source)).unwrap()
        assert pc == stop.frame.address and pc in {i.address for i in listed}
        assert {i.function for i in listed} == {"fork_one"}
        assert all(i.line is None and i.fullname is None for i in listed)
    whole, _pc = (await session.disassemble(with_source=True)).unwrap()
    assert whole[-1].text.startswith("ret")  # the whole function
