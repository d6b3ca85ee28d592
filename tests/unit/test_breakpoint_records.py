"""The parsing of gdb's records for breakpoints of every kind, on MI lines recorded from
real gdb (tests/unit/breakpoint_records.mi): watchpoints, logpoints, catchpoints,
ignore counts, temporary breakpoints, the stops they make, and mixed disassembly."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest

from cntr_tui.gdb.events import (
    BreakpointCreated,
    BreakpointModified,
    ConsoleOutput,
    Stopped,
    event_from_record,
)
from cntr_tui.gdb.records import Breakpoint, as_list
from cntr_tui.gdb.session.breakpoints import CATCHPOINT_SAID, c_unescaped
from cntr_tui.gdb.session.data import instructions_of
from cntr_tui.gdb.session.fanout import SIGNAL_CAUGHT
from cntr_tui.gdb.transport import MiRecord, parse_line, value_tuples_as_lists

RECORDED = Path(__file__).with_name("breakpoint_records.mi")


def recorded() -> dict[str, str]:
    lines: dict[str, str] = {}
    name = None
    for line in RECORDED.read_text().splitlines():
        if re.fullmatch(r"# \w+", line):
            name = line[2:]
        elif name is not None:
            lines[name] = line
            name = None
    return lines


LINES = recorded()


def record(name: str) -> MiRecord:
    return parse_line(LINES[name])


def stopped(name: str) -> Stopped:
    event = event_from_record(record(name))
    assert isinstance(event, Stopped)
    return event


def listed(name: str) -> Breakpoint:
    """The one breakpoint of a -break-info answer."""
    table: dict[str, Any] = record(name).payload["BreakpointTable"]
    (only,) = as_list(table["body"])
    return Breakpoint.from_mi(only)


@pytest.mark.parametrize(
    ("access", "key", "kind", "gdb_type", "expression"),
    [
        ("watch", "wpt", "watch", "hw watchpoint", "workers[1].iterations"),
        ("read_watch", "hw-rwpt", "read watch", "read watchpoint", "workers[1].id"),
        ("access_watch", "hw-awpt", "access watch", "acc watchpoint", "workers[1].total"),
    ],
)
def test_a_watchpoint_is_its_number_when_inserted_and_its_kind_in_the_list(
    access, key, kind, gdb_type, expression
):
    inserted = Breakpoint.from_mi(record(f"{access}_inserted").payload[key])
    assert (inserted.number, inserted.what) == ("1", expression)
    full = listed(f"{access}_info")
    assert (full.number, full.type, full.kind, full.what) == ("1", gdb_type, kind, expression)
    assert full.hits == 0 and full.address is None and not full.temporary


def test_a_write_watch_stop_has_old_and_new_and_its_number():
    stop = stopped("watch_stopped")
    assert stop.reason == "watchpoint-trigger" and stop.breakpoint_number == "1"
    assert stop.detail == "1 -> 2"
    assert stop.frame is not None and (stop.frame.function, stop.frame.line) == ("tick", 39)


def test_read_and_access_watch_stops_have_the_value():
    read = stopped("read_watch_stopped")
    assert (read.reason, read.breakpoint_number, read.detail) == (
        "read-watchpoint-trigger",
        "1",
        "1",
    )
    access = stopped("access_watch_stopped")
    assert (access.reason, access.breakpoint_number, access.detail) == (
        "access-watchpoint-trigger",
        "1",
        "12.972939723098687",
    )


def test_a_watch_stop_gdb_printed_twice_in_one_record_is_read_once():
    """`w->id` watches `w` and `w->id`: gdb repeats reason, hw-rwpt and value."""
    read = stopped("read_watch_stopped_twice")
    assert (read.reason, read.breakpoint_number, read.detail) == (
        "read-watchpoint-trigger",
        "3",
        "2",
    )
    assert read.thread_id == 4 and read.frame is not None and read.frame.function == "tick"
    access = stopped("access_watch_stopped_twice")
    assert (access.reason, access.breakpoint_number) == ("access-watchpoint-trigger", "4")
    assert access.detail == "37.421813181272164"


def test_a_logpoint_keeps_its_location_and_says_its_format_and_arguments():
    """gdb prints its script as a tuple of bare strings, which pygdbmi merged with the
    field after it (original-location was lost)."""
    for name in ("dprintf_inserted", "dprintf_modified"):
        payload = record(name).payload
        assert payload["bkpt"]["script"] == [
            'printf "tick \\"%d\\" %lu\\\\\\n",w->id,w->iterations'
        ]
        logpoint = Breakpoint.from_mi(payload["bkpt"])
        assert logpoint.kind == "logpoint" and logpoint.location == "tick"
        assert logpoint.what == '"tick \\"%d\\" %lu\\\\\\n",w->id,w->iterations'
        assert (logpoint.function, logpoint.line) == ("tick", 38)
    assert Breakpoint.from_mi(record("dprintf_modified").payload["bkpt"]).hits == 1


def test_value_tuples_become_lists_and_strings_are_left_alone():
    assert value_tuples_as_lists('a={"x}",y="{\\"z"},b={c="d"}') == 'a=["x}",y="{\\"z"],b={c="d"}'
    untouched = '~"value={\\"a\\"} is not a record"'
    assert value_tuples_as_lists(untouched) == untouched
    assert parse_line(untouched).payload == 'value={"a"} is not a record'


def test_the_format_of_a_logpoint_is_unescaped_as_c_would():
    assert c_unescaped('tick \\"%d\\" %lu\\\\\\n') == 'tick "%d" %lu\\\n'
    assert c_unescaped("tab\\tkept\\q") == "tab\tkept\\q"


def test_a_syscall_catchpoint_said_created_listed_and_stopped_at():
    said = event_from_record(record("syscall_catch_said"))
    assert isinstance(said, ConsoleOutput)
    found = CATCHPOINT_SAID.search(said.text)
    assert found is not None and found.group(1) == "1"
    created = event_from_record(record("syscall_catch_created"))
    assert isinstance(created, BreakpointCreated)
    assert created.breakpoint.what == "syscall clock_nanosleep"
    catch = listed("syscall_catch_info")
    assert (catch.kind, catch.what, catch.hits) == ("catchpoint", "syscall clock_nanosleep", 0)
    entry, back = stopped("syscall_entry_stopped"), stopped("syscall_return_stopped")
    assert (entry.reason, entry.breakpoint_number, entry.detail) == (
        "syscall-entry",
        "1",
        "clock_nanosleep",
    )
    assert (back.reason, back.detail) == ("syscall-return", "clock_nanosleep")


def test_a_signal_catchpoint_stop_is_known_by_the_console_line_before_it():
    said = event_from_record(record("signal_catch_said"))
    assert isinstance(said, ConsoleOutput) and CATCHPOINT_SAID.search(said.text)
    assert listed("signal_catch_info").what == "signal SIGWINCH"
    caught = event_from_record(record("signal_caught_said"))
    assert isinstance(caught, ConsoleOutput)
    found = SIGNAL_CAUGHT.match(caught.text)
    assert found is not None and found.groups() == ("1", "SIGWINCH")
    assert SIGNAL_CAUGHT.match(said.text) is None  # the line that set it is no stop
    stop = stopped("signal_caught_stopped")  # gdb says nothing more of it
    assert (stop.reason, stop.breakpoint_number, stop.signal_name) == ("unknown", None, None)


def test_fork_and_exec_stops_name_the_child_and_the_program():
    said = event_from_record(record("fork_catch_said"))
    assert isinstance(said, ConsoleOutput)
    found = CATCHPOINT_SAID.search(said.text)
    assert found is not None and found.group(1) == "1"
    fork = stopped("fork_stopped")
    assert (fork.reason, fork.breakpoint_number, fork.detail) == ("fork", "1", "29347")
    exec_ = stopped("exec_stopped")
    assert (exec_.reason, exec_.breakpoint_number) == ("exec", "2")
    assert exec_.detail == "/tmp/pytest-of-root/pytest-21/forker0/forker"
    assert exec_.frame is not None and exec_.frame.library == "/lib64/ld-linux-x86-64.so.2"


def test_ignore_count_and_temporary_breakpoints():
    ignoring = Breakpoint.from_mi(record("ignore_inserted").payload["bkpt"])
    assert (ignoring.ignore, ignoring.temporary, ignoring.kind) == (2, False, "breakpoint")
    once = Breakpoint.from_mi(record("temporary_inserted").payload["bkpt"])
    assert once.temporary and once.ignore == 0
    stop = stopped("temporary_stopped")
    assert (stop.reason, stop.breakpoint_number, stop.detail) == ("breakpoint-hit", "1", None)


def test_mixed_disassembly_gives_each_instruction_its_line():
    instructions = instructions_of(as_list(record("disassembled_with_source").payload["asm_insns"]))
    assert {i.function for i in instructions} == {"tick"}
    assert [i.line for i in instructions] == sorted(i.line or 0 for i in instructions)
    assert {i.line for i in instructions} == {37, 38, 39, 40}
    assert all(
        i.file == "threads.c" and (i.fullname or "").endswith("threads.c") for i in instructions
    )
    plain = instructions_of(as_list(record("disassembled_without_line_info").payload["asm_insns"]))
    assert plain[0].text.startswith("push") and plain[-1].text.startswith("ret")
    assert all(i.line is None and i.function == "fork_one" for i in plain)


def test_a_modified_record_of_a_logpoint_is_an_event_with_its_hits():
    event = event_from_record(record("dprintf_modified"))
    assert isinstance(event, BreakpointModified) and event.breakpoint.hits == 1


def test_a_console_catchpoint_is_the_one_gdb_announced_not_a_late_line_before_it():
    """gdb printed -catch-unload's "Catchpoint 5 (unload)" after its ^done, where it can
    fall into the next command's console text: the new one is named last, and by its
    =breakpoint-created."""
    late, own = (
        event_from_record(record(n)) for n in ("unload_catch_said_late", "fork_catch_console")
    )
    assert isinstance(late, ConsoleOutput) and isinstance(own, ConsoleOutput)
    assert CATCHPOINT_SAID.findall(late.text + own.text) == ["5", "6"]
    created = event_from_record(record("fork_catch_created"))
    assert isinstance(created, BreakpointCreated) and created.breakpoint.number == "6"
    assert created.breakpoint.what == "fork"


def test_an_exception_catchpoint_says_its_regex():
    catch = Breakpoint.from_mi(record("catch_catch_inserted").payload["bkpt"])
    assert (catch.kind, catch.what) == ("catchpoint", "exception catch matching std::.*")


def test_the_end_of_a_watchpoints_scope_names_it():
    stop = stopped("watch_scope_stopped")
    assert (stop.reason, stop.breakpoint_number, stop.detail) == ("watchpoint-scope", "2", None)
    assert stop.frame is not None and stop.frame.function == "worker_main"
