"""The interactive console's half of gdb's bridge to gdbserver: gdb -> gdbserver.

gdb interrupts a running program by sending a lone ^C byte to gdbserver, which then
signals the program's process group: for a container's PID 1 that is kill(-1), a
SIGINT to every other process in the container (gdb's own bridge among them: gdb
loses its target). So the console's bridge does not write gdb's stream to gdbserver's
stdin: it writes into a third pipe, which gdbserver holds open (it never reads it)
for the bridge to reach it through /proc. This relay, a thread of ours (root, on the
host: nothing the container's user must be able to run), copies that pipe to
gdbserver's stdin, except that a ^C outside a packet becomes a SIGINT to the program
itself (what the MI engine's interrupt does), which gdbserver reports to gdb as the
stop. Inside a packet (`$...#cs`) a 0x03 byte is data (binary memory writes) and passes.

    relay = InterruptRelay(console_input, to_server, program_host_pid)  # copies both fds
    ...                                                                # gdb's console runs
    relay.stop()
"""

from __future__ import annotations

import contextlib
import os
import select
import signal
import threading

INTERRUPT = 0x03
PACKET_START = ord("$")
CHECKSUM_MARK = ord("#")
OUTSIDE, INSIDE, CHECKSUM_1, CHECKSUM_2 = range(4)


class InterruptFilter:
    """Splits gdb's byte stream: packets and acks pass, interrupts are counted out."""

    def __init__(self) -> None:
        self.state = OUTSIDE

    def feed(self, data: bytes) -> tuple[bytes, int]:
        """(the bytes for gdbserver, how many interrupts were taken out)."""
        kept = bytearray()
        interrupts = 0
        for byte in data:
            if self.state == OUTSIDE:
                if byte == INTERRUPT:
                    interrupts += 1
                    continue
                if byte == PACKET_START:
                    self.state = INSIDE
            elif self.state == INSIDE:
                if byte == CHECKSUM_MARK:  # never escaped-raw inside a packet
                    self.state = CHECKSUM_1
            elif self.state == CHECKSUM_1:
                self.state = CHECKSUM_2
            else:
                self.state = OUTSIDE
            kept.append(byte)
        return bytes(kept), interrupts


def write_all(fd: int, data: bytes) -> None:
    while data:
        data = data[os.write(fd, data) :]


class InterruptRelay:
    """Copies `source` (the console bridge's pipe) to `to_server` in a thread, ^C
    outside packets taken out and sent to `host_pid` as SIGINT. It works on copies of
    both descriptors (the caller may close its own) until `stop()`."""

    def __init__(self, source: int, to_server: int, host_pid: int) -> None:
        self._source = os.dup(source)  # os.dup: O_CLOEXEC
        self._to_server = os.dup(to_server)
        self._host_pid = host_pid
        self._wake_read, self._wake_write = os.pipe2(os.O_CLOEXEC)
        self._thread = threading.Thread(target=self._run, name="interrupt relay", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        stream = InterruptFilter()
        poller = select.poll()
        poller.register(self._source, select.POLLIN)
        poller.register(self._wake_read, select.POLLIN)
        while True:
            ready = {fd for fd, _ in poller.poll()}
            if self._wake_read in ready:
                return
            data = os.read(self._source, 65536)
            if not data:
                return
            kept, interrupts = stream.feed(data)
            if interrupts:
                with contextlib.suppress(ProcessLookupError):
                    os.kill(self._host_pid, signal.SIGINT)
            try:
                write_all(self._to_server, kept)
            except OSError:  # gdbserver is gone
                return

    def stop(self) -> None:
        """End the copy (what is still unread is dropped: gdb is gone) and close."""
        os.write(self._wake_write, b"x")
        self._thread.join()
        for fd in (self._source, self._to_server, self._wake_read, self._wake_write):
            os.close(fd)
