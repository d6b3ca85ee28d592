"""The tests' witness of a detach in a CNTR_TUI_GDB_TRACE file (support.frontend):
a read that ends inside a line, two sessions in one file, a detach refused."""

from tests.support.frontend import gdb_detached, trace_sessions

FIRST = (
    b"10.000 > 1-gdb-show mi-async\n\n"
    b'10.001 < 1^done,value="on"\n(gdb) \n\n'
    b"10.002 > 2-target-detach\n\n"
    b"10.003 < 2^done\n(gdb) \n\n"
)
# the TUI's non-stop attach: a second gdb, its tokens from 1 again
SECOND = (
    b"11.000 > 1-gdb-show mi-async\n\n"
    b'11.001 < 1^done,value="on"\n(gdb) \n\n'
    b"11.002 > 2-break-list\n\n"
    b"11.003 < 2^done,BreakpointTable={}\n(gdb) \n\n"
)
# CI's ending: the answer to the detach came in two reads
SPLIT_DETACH = b"11.004 > 3-target-detach\n\n11.005 < 3\n11.005 < ^done\n11.005 < (gdb) \n\n"
EXIT = b"11.006 > 4-gdb-exit\n\n11.007 < 4^exit\n\n"


def test_a_detach_answered_across_two_reads_is_seen() -> None:
    assert gdb_detached(FIRST + SECOND + SPLIT_DETACH + EXIT)


def test_the_sessions_are_told_apart() -> None:
    sessions = trace_sessions(FIRST + SECOND + SPLIT_DETACH + EXIT)
    assert [sent.count(b"-target-detach") for sent, _ in sessions] == [1, 1]
    assert b"3^done" in sessions[1][1]


def test_the_last_session_must_detach() -> None:
    # the first session's detach (token 2) does not stand for the second's
    assert not gdb_detached(FIRST + SECOND + EXIT)


def test_a_refused_detach_is_not_a_detach() -> None:
    refused = SPLIT_DETACH.replace(b"< ^done", b'< ^error,msg="Can\'t detach process."')
    assert not gdb_detached(FIRST + SECOND + refused + EXIT)
    assert not gdb_detached(b"")
