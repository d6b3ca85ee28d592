"""mi_values.parse_record gives what pygdbmi's parse_response gives (the records of a
real gdb session in breakpoint_records.mi, and the grammar's corners), and reads the
common records itself rather than handing them to pygdbmi."""

from __future__ import annotations

from pathlib import Path

import pytest
from pygdbmi.gdbmiparser import parse_response

from cntr_tui.gdb.mi_values import fast_record, parse_record
from cntr_tui.gdb.transport import value_tuples_as_lists

RECORDS = [
    line
    for line in Path(__file__).with_name("breakpoint_records.mi").read_text().splitlines()
    if not line.startswith("#")
]
CORNERS = [
    '12^done,stack=[frame={level="0",addr="0x1",func="f",file="a.c",line="3"},'
    'frame={level="1",addr="0x2",func="main"}]',
    '^done,threads=[{id="1",target-id="Thread 1.1",frame={level="0",args=[]},state="stopped"}]',
    '=library-loaded,id="/lib/libc.so.6",ranges=[{from="0x1",to="0x2"}],thread-group="i1"',
    '^done,a="1",a="2",a="3",b={},c=[],d=[[],["x","y"],{k="v"}]',
    '^done,value="say \\"hi\\"\\n\\t\\\\ \\303\\251 \\101"',
    "~\"Thread 1 has target name 'stalls'\\n\"",
    '~"a \\\\n b\\n"',
    '&"warning: \\"quoted\\"\\n"',
    '@"target output"',
    '*running,thread-id="all"',
    "^exit",
    '^error,msg="No symbol \\"x\\" in current context."',
    "5^done,",
    '^done,broken={x="1"',
    "(gdb) ",
    "plain output",
    "",
]


@pytest.mark.parametrize("line", RECORDS + CORNERS)
def test_same_as_pygdbmi(line: str) -> None:
    text = value_tuples_as_lists(line)
    assert parse_record(text) == parse_response(text)


def test_common_records_are_read_without_pygdbmi() -> None:
    for line in RECORDS + CORNERS[:6] + CORNERS[8:10]:
        fast_record(value_tuples_as_lists(line))  # raises Unexpected for pygdbmi's
