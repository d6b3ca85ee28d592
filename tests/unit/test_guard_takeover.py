"""The guard's takeover of gdbserver's connection, against a scripted gdbserver: gdb
died in the middle of a symbol look-up gdbserver had asked of it (thread_db, after a
stop), so gdbserver takes the guard's first packet for gdb's answer.

The real case, killed front ends on real containers, is tests/runtime/test_frontend_death.py
(`stopped at a watchpoint`, where the front end dies while gdb still talks to gdbserver
about the stop); this one makes that interleaving happen every time.
"""

from __future__ import annotations

import os
import subprocess
import threading
import time
from collections.abc import Iterator

import pytest

from cntr_tui.gdb.guard_process import (
    TAKEOVER_TIMEOUT,
    PacketReader,
    ServerLink,
    detach_through_gdbserver,
    packet,
)

SYMBOL = b"__nptl_death_event".hex().encode()


class ScriptedGdbserver(threading.Thread):
    """Reads the guard's packets; the first one is the answer to its own qSymbol
    request (so it gets no reply, as gdbserver gives none to a malformed one); then
    answers as gdbserver does: qSymbol::NAME (unknown) -> OK, qAttached -> 1, z0 -> OK,
    D -> OK."""

    def __init__(self, from_guard: int, to_guard: int) -> None:
        super().__init__(daemon=True)
        self.reader = PacketReader(from_guard)
        self.to_guard = to_guard
        self.seen: list[bytes] = []

    def run(self) -> None:
        os.write(self.to_guard, packet(b"qSymbol:" + SYMBOL))  # asked before gdb died
        self.seen.append(self.reader.next(time.monotonic() + 30) or b"")  # the "answer"
        while (received := self.reader.next(time.monotonic() + 30)) is not None:
            self.seen.append(received)
            if received.startswith(b"qSymbol::"):
                os.write(self.to_guard, packet(b"OK"))
            elif received.startswith(b"qAttached"):
                os.write(self.to_guard, packet(b"1"))
            elif received.startswith((b"z0", b"D")):
                os.write(self.to_guard, packet(b"OK"))
            else:
                os.write(self.to_guard, packet(b""))


@pytest.fixture
def program() -> Iterator[int]:
    """A live process the scripted gdbserver does not trace (the guard sends it no
    SIGSTOP, and finds no trap in its code)."""
    process = subprocess.Popen(["sleep", "60"])
    yield process.pid
    process.kill()
    process.wait()


def test_a_symbol_look_up_gdb_left_unanswered_does_not_stall_the_takeover(program: int) -> None:
    guard_reads, server_writes = os.pipe2(os.O_CLOEXEC)
    server_reads, guard_writes = os.pipe2(os.O_CLOEXEC)
    server = ScriptedGdbserver(server_reads, server_writes)
    server.start()
    link = ServerLink(os.getpid(), program, guard_writes, guard_reads)
    try:
        started = time.monotonic()
        outcome = detach_through_gdbserver(link, program)
        took = time.monotonic() - started
    finally:
        link.close()
        server.join(5)
        os.close(server_reads)
        os.close(server_writes)
    assert outcome == {
        "removed_by_gdbserver": 0,
        "detached_by_guard": True,
        "stopped_by_guard": False,
    }, (outcome, server.seen)
    assert took < TAKEOVER_TIMEOUT / 4, (took, server.seen)
    assert server.seen[0].startswith(b"qAttached"), server.seen  # taken for the answer
    assert server.seen[1] == b"qSymbol::" + SYMBOL, server.seen
    assert server.seen[2].startswith(b"qAttached"), server.seen  # the marker, again
    assert server.seen[-1].startswith(b"D;"), server.seen
