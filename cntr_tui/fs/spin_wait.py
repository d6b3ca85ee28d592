"""Wait for the next FUSE request by polling /dev/fuse for a moment before blocking.

A FUSE request is a round trip: the caller sleeps until the reply, the server sleeps
until the next request. When the two sleep on different CPUs, each wake-up is an IPI to
an idle CPU, and on a virtual machine an idle vCPU is halted, so each costs a VM exit.
Measured on this project's machines (two vCPUs): a second `find /usr/lib` (11k GETATTR)
took 0.5-0.7 s with the file server and `find` pinned to one CPU and 1.2-1.5 s on two;
with the loop polling for 50 us after each reply, 0.6-0.9 s unpinned
(bench/RESULTS.md, "Polling for the next request during a burst").

So during a burst (the last two requests came less than `BURST_GAP` apart) the
request loop polls for up to `spin` seconds after each reply before it blocks: the
next request finds it awake, and only the caller's wake-up is left. Outside a burst it
blocks at once: an idle session costs no CPU, and a lone request costs no polling.
"""

from __future__ import annotations

import select
import time
from collections.abc import Callable
from dataclasses import dataclass

BURST_GAP = 1e-3  # seconds between two requests that make them one burst


@dataclass
class SpinWait:
    """Per loop thread: call `received` when a request has been read, `before_receive`
    before reading the next one."""

    poll: Callable[[int], list[tuple[int, int]]]  # select.poll().poll on /dev/fuse
    spin: float
    clock: Callable[[], float] = time.perf_counter
    previous: float = float("-inf")
    arrived: float = float("-inf")

    @classmethod
    def on(cls, dev_fd: int, spin: float) -> SpinWait | None:
        """For the connection's /dev/fuse fd; None when there is none or `spin` is 0."""
        if dev_fd < 0 or spin <= 0:
            return None
        poller = select.poll()
        poller.register(dev_fd, select.POLLIN)
        return cls(poller.poll, spin)

    def in_burst(self) -> bool:
        return self.arrived - self.previous < BURST_GAP

    def received(self) -> None:
        self.previous, self.arrived = self.arrived, self.clock()

    def before_receive(self) -> bool:
        """In a burst, poll until a request is there or `spin` has passed; whether one
        is there (False: not in a burst, or none came)."""
        if not self.in_burst():
            return False
        poll, clock = self.poll, self.clock
        deadline = clock() + self.spin
        while not poll(0):
            if clock() >= deadline:
                return False
        return True
