"""The interactive console's half of gdb's bridge to gdbserver: gdb -> gdbserver.

gdb interrupts a running program by sending a lone ^C byte to gdbserver, which then
signals the program's process group: for a container's PID 1 that is kill(-1), a
SIGINT to every other process in the container (gdb's own bridge among them: gdb
loses its target). This filter copies gdb's stream to gdbserver's stdin, except that
a ^C outside a packet becomes a SIGINT to the program itself (what the MI engine's
interrupt does), which gdbserver reports to gdb as the stop. Inside a packet
(`$...#cs`) a 0x03 byte is data (binary memory writes) and passes.

    python -I -S -c "...; main()" PID_IN_CONTAINER /proc/GDBSERVER/fd/0   # stdin: gdb

Only the standard library: it starts through the merged root.
"""

from __future__ import annotations

import contextlib
import os
import signal
import sys

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


def main() -> None:
    pid = int(sys.argv[1])
    to_server = os.open(sys.argv[2], os.O_WRONLY | os.O_CLOEXEC)
    stream = InterruptFilter()
    while True:
        try:
            data = os.read(0, 65536)
        except InterruptedError:
            continue
        if not data:
            return
        kept, interrupts = stream.feed(data)
        if interrupts:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGINT)
        write_all(to_server, kept)


if __name__ == "__main__":
    main()
