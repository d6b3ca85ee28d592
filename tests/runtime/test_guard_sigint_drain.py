"""The guard's takeover never lets the program go with a SIGINT queued (issue 12): the
session's interrupt may send one as gdb dies, and let go with it queued the program
takes it untraced (the demo's handler ends it). So `drain_stops` resumes and stops the
program under gdbserver until no SIGINT is queued for any thread, as well as no SIGSTOP.

The guard's own takeover (`detach_through_gdbserver`), run here in the test's process,
speaks to a real gdbserver attached to the demo program (chrooted on the host), through
a relay that sees every packet. To make the race happen every time, the relay queues a
SIGINT for the program at the drain's stop reply that leaves no SIGSTOP queued or held
(the one after which a drain waiting for SIGSTOP alone would `D`): gdbserver has stopped
every thread for that reply, so the SIGINT stays queued (ShdPnd) until the guard resumes
the program. At the guard's `D` (every thread still stopped under gdbserver) no SIGINT
may be queued; after it the program runs on, untraced, its workers ticking.
"""

from __future__ import annotations

import os
import select
import signal
import subprocess
import threading
import time
from collections.abc import Iterator

import pytest

from cntr_tui.gdb.guard_process import PacketReader, ServerLink, detach_through_gdbserver, packet
from cntr_tui.gdb.trap_rescue import rescue
from cntr_tui.linux.proc_status import SIGINT, SIGSTOP, pending_anywhere
from tests.runtime.test_interrupt_after_gdb import assert_runs_on
from tests.support.frontend import Program
from tests.support.proc import process_state, running, tracer_of

REPLY_WAIT = 30.0  # for one of gdbserver's answers to the handshake


def queued(mask: int, number: int) -> bool:
    return bool(mask & 1 << (number - 1))


class Gdbserver:
    """A real gdbserver on stdin/stdout, attached to `pid` as gdb would attach it
    (multiprocess, no-ack mode), with no gdb: the state the guard takes over."""

    def __init__(self, pid: int):
        self.process = subprocess.Popen(
            ["gdbserver", "--once", "--multi", "-"],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
        )
        assert self.process.stdin is not None and self.process.stdout is not None
        self.to_server = self.process.stdin.fileno()
        self.from_server = self.process.stdout.fileno()
        self.reader = PacketReader(self.from_server)
        try:
            self.ask(b"qSupported:multiprocess+;swbreak+;hwbreak+;vContSupported+", ack=True)
            assert self.ask(b"QStartNoAckMode", ack=True) == b"OK"
            reply = self.ask(b"vAttach;%x" % pid)
            assert reply is not None and reply[:1] == b"T", reply  # every thread stopped
        except BaseException:
            self.close()
            raise

    def ask(self, data: bytes, ack: bool = False) -> bytes | None:
        os.write(self.to_server, packet(data))
        reply = self.reader.next(time.monotonic() + REPLY_WAIT)
        if ack:  # before no-ack mode: gdbserver waits for our `+` to its answer
            os.write(self.to_server, b"+")
        return reply

    def close(self) -> None:
        self.process.kill()
        self.process.wait()
        assert self.process.stdin is not None and self.process.stdout is not None
        self.process.stdin.close()
        self.process.stdout.close()


class Relay(threading.Thread):
    """Copies packets between the guard and gdbserver, and (once) queues a SIGINT for the
    program at the first stop reply to the drain's `vCont;c` that leaves no SIGSTOP
    queued or held for any thread. Records the signals queued when the guard's `D`
    comes, before passing it on."""

    def __init__(self, server: Gdbserver, pid: int):
        super().__init__(daemon=True)
        self.server = server
        self.pid = pid
        guard_reads, self.relay_writes = os.pipe2(os.O_CLOEXEC)
        self.relay_reads, guard_writes = os.pipe2(os.O_CLOEXEC)
        self.guard_link = ServerLink(server.process.pid, pid, guard_writes, guard_reads)
        self.resumed = False  # the guard sent `vCont;c`
        self.sent_sigint = False
        self.at_detach: list[int] = []  # pending_anywhere() at each `D`
        self.seen: list[bytes] = []

    def run(self) -> None:
        from_guard = PacketReader(self.relay_reads)
        from_server = self.server.reader
        while not (from_guard.ended or from_server.ended):
            readable, _, _ = select.select([self.relay_reads, self.server.from_server], [], [])
            if self.relay_reads in readable:
                for data in self.packets(from_guard):
                    self.seen.append(data)
                    self.resumed = self.resumed or data.startswith(b"vCont;c")
                    if data.startswith(b"D;"):
                        self.at_detach.append(pending_anywhere(self.pid))
                    os.write(self.server.to_server, packet(data))
            if self.server.from_server in readable:
                for data in self.packets(from_server):
                    if self.resumed and data[:1] == b"T" and not self.sent_sigint:
                        self.sent_sigint = not queued(pending_anywhere(self.pid), SIGSTOP)
                        if self.sent_sigint:
                            os.kill(self.pid, SIGINT)
                    self.seen.append(b"<- " + data)
                    os.write(self.relay_writes, packet(data))

    @staticmethod
    def packets(reader: PacketReader) -> Iterator[bytes]:
        """The packets one read of the reader's (readable) fd completes."""
        chunk = os.read(reader.fd, 65536)
        reader.ended = not chunk
        reader.buffer += chunk
        while (data := reader.take()) is not None:
            yield data

    def close(self) -> None:
        self.guard_link.close()
        self.join(10)
        os.close(self.relay_reads)
        os.close(self.relay_writes)


@pytest.fixture
def relay(threads_program: subprocess.Popen[bytes]) -> Iterator[Relay]:
    pid = threads_program.pid
    server = Gdbserver(pid)
    relay = Relay(server, pid)
    relay.start()
    try:
        yield relay
    finally:
        relay.close()
        server.close()
        if running(pid) and process_state(pid) == "T":
            os.kill(pid, signal.SIGCONT)


def test_the_guard_does_not_detach_with_a_sigint_queued(relay: Relay) -> None:
    pid = relay.pid
    program = Program.of(pid)
    outcome = detach_through_gdbserver(relay.guard_link, pid)
    assert relay.sent_sigint, relay.seen  # the race happened
    assert outcome.get("detached_by_guard") and relay.at_detach, (outcome, relay.seen)
    assert not queued(relay.at_detach[-1], SIGINT), (
        "the guard's D let the program go with a SIGINT queued",
        relay.seen,
    )
    assert tracer_of(pid) == 0
    rescue(pid)  # as the guard's after_gdb: debug registers cleared, SIGCONT
    assert_runs_on(program)  # it would take the SIGINT now: the demo's handler ends it
