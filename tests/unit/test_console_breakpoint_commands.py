"""Which console commands the engine runs in a hold while an all-stop program runs
(gdb's names and abbreviations of the breakpoint-changing commands, not others)."""

from __future__ import annotations

import pytest

from cntr_tui.gdb.session.execution import breakpoint_command

HELD = [
    "break tick",
    "b tick",
    "br threads.c:33",
    "tbreak main",
    "hbreak tick",
    "rbreak ^compute",
    "delete",
    "d 1",
    "del 2",
    "delete 3",
    "disable 1",
    "dis 1",
    "enable once 1",
    "en 1",
    "condition 1 w->id == 1",
    "cond 1",
    "ignore 1 5",
    "watch workers[0].id",
    "rwatch x",
    "awatch x",
    'dprintf tick,"%d\\n",w->id',
    "catch syscall write",
    "tcatch fork",
    "clear tick",
    "  break  tick",
]
NOT_HELD = [
    "",
    "bt",
    "backtrace",
    "commands 1",
    "continue",
    "c",
    "de",
    "detach",
    "define x",
    "disassemble",
    "disas",
    "display x",
    "info breakpoints",
    "end",
    "call f()",
    "print x",
    "cl",
    "next",
]


@pytest.mark.parametrize("command", HELD)
def test_breakpoint_commands_are_held(command):
    assert breakpoint_command(command)


@pytest.mark.parametrize("command", NOT_HELD)
def test_other_commands_are_not(command):
    assert not breakpoint_command(command)
