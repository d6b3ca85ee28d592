"""C++ throw and catch catchpoints on a real program (issue 14), on docker and plain
namespaces, through gdbserver in the container as every session runs: a program that
throws and catches a std::runtime_error every 20 ms (programs/thrower.cpp). `catch throw`
stops in __cxa_throw called from throw_one at the throw's line, `catch catch` with a type
stops in __cxa_begin_catch called from catch_one's handler; a catchpoint for a type it
never throws does not stop it; after the session the program runs untraced, no trap left,
still catching."""

from __future__ import annotations

import pytest

from cntr_tui.debug.service import open_debug
from cntr_tui.debug.target import target_for
from cntr_tui.demo.containers import StartedContainer
from cntr_tui.demo.rootfs import Program
from cntr_tui.gdb.trap_rescue import traps_in
from tests.support.frontend import load_base, symbol_value
from tests.support.proc import read_u64, tracer_of, wait_until
from tests.support.program_roots import root_with_program
from tests.support.runtimes import StartContainer, container_of

THROWER = Program("thrower", "thrower.cpp", "g++", ("-g", "-O0", "-std=c++17"))
THROW_LINE = 13  # throw std::runtime_error(...) in throw_one
HANDLER_LINE = 19  # the catch clause in catch_one


@pytest.fixture(params=["docker", "process"])
def thrower(request: pytest.FixtureRequest, start_container: StartContainer) -> StartedContainer:
    return start_container(request.param, program="/app/thrower", root=root_with_program(THROWER))


def caught(pid: int) -> int:
    """The program's count of exceptions caught, read through /proc/PID/mem."""
    return read_u64(pid, load_base(pid) + symbol_value(f"/proc/{pid}/exe", "caught"))


async def test_throw_and_catch_catchpoints_stop_where_the_program_throws_and_catches(
    thrower: StartedContainer,
) -> None:
    pid = thrower.pid
    session = await open_debug(target_for(container_of(thrower)))
    try:
        gdb = session.gdb
        assert gdb.tracer == "gdbserver"
        throw = (await gdb.catch_insert("throw")).unwrap()
        assert (throw.kind, throw.what) == ("catchpoint", "exception throw")
        assert (await gdb.continue_()).ok
        stop = (await gdb.wait_stopped()).unwrap()
        assert stop.breakpoint_number == throw.number, stop
        frames = (await gdb.backtrace()).unwrap()
        functions = [frame.function for frame in frames]
        assert functions[0] == "__cxa_throw", functions
        thrown_at = frames[functions.index("throw_one")]
        assert (thrown_at.file or "").endswith("thrower.cpp") and thrown_at.line == THROW_LINE
        assert "catch_one" in functions

        assert (await gdb.break_delete(throw.number)).ok
        handler = (await gdb.catch_insert("catch", "std::runtime_error")).unwrap()
        assert (await gdb.continue_()).ok
        stop = (await gdb.wait_stopped()).unwrap()
        assert stop.breakpoint_number == handler.number, stop
        frames = (await gdb.backtrace()).unwrap()
        functions = [frame.function for frame in frames]
        assert functions[0] == "__cxa_begin_catch", functions
        assert frames[1].function == "catch_one" and frames[1].line == HANDLER_LINE, frames[1]

        # a type it never throws: the program runs through its throws without a stop
        assert (await gdb.break_delete(handler.number)).ok
        never = (await gdb.catch_insert("throw", "std::logic_error")).unwrap()
        assert (await gdb.continue_()).ok
        counted = caught(pid)
        assert wait_until(lambda: caught(pid) > counted + 5), "it throws and catches on"
        assert gdb.state == "running"
        assert (await gdb.break_delete(never.number)).ok
    finally:
        await session.close()
    assert wait_until(lambda: tracer_of(pid) == 0)
    assert traps_in(pid) == {}
    counted = caught(pid)
    assert wait_until(lambda: caught(pid) > counted), "it catches on after the session"
