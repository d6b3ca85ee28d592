"""The request loop's wait for the next request (fs/spin_wait.py): it polls only in a
burst, stops polling as soon as a request is there, and gives up after its spin. A pipe
stands in for /dev/fuse and a counted clock for time; the real path is every fs
runtime test's."""

from __future__ import annotations

import os

from cntr_tui.fs.spin_wait import BURST_GAP, SpinWait


class Clock:
    """Advances by `step` seconds at each reading."""

    def __init__(self, step: float) -> None:
        self.now, self.step, self.readings = 0.0, step, 0

    def __call__(self) -> float:
        self.readings += 1
        self.now += self.step
        return self.now


def spin_wait(read_fd: int, spin: float, clock: Clock) -> SpinWait:
    waiting = SpinWait.on(read_fd, spin)
    assert waiting is not None
    waiting.clock = clock
    return waiting


def test_nothing_to_poll_without_a_connection_or_a_spin(pipe: tuple[int, int]) -> None:
    assert SpinWait.on(-1, 50e-6) is None
    assert SpinWait.on(pipe[0], 0.0) is None


def test_a_lone_request_is_followed_by_no_polling(pipe: tuple[int, int]) -> None:
    clock = Clock(step=1.0)  # each request a second after the one before
    waiting = spin_wait(pipe[0], 50e-6, clock)
    polls: list[int] = []
    waiting.poll = lambda timeout: polls.append(timeout) or []
    waiting.received()
    waiting.received()
    assert not waiting.in_burst()
    assert waiting.before_receive() is False
    assert polls == []


def test_in_a_burst_it_polls_until_its_spin_is_over(pipe: tuple[int, int]) -> None:
    clock = Clock(step=BURST_GAP / 10)
    waiting = spin_wait(pipe[0], spin=BURST_GAP, clock=clock)
    waiting.received()
    waiting.received()
    assert waiting.in_burst()
    before = clock.readings
    assert waiting.before_receive() is False  # nothing was written
    assert clock.readings - before == 11  # the deadline, then ten polls a tenth apart


def test_in_a_burst_a_waiting_request_ends_the_polling_at_once(pipe: tuple[int, int]) -> None:
    clock = Clock(step=BURST_GAP / 10)
    waiting = spin_wait(pipe[0], spin=3600.0, clock=clock)
    waiting.received()
    waiting.received()
    os.write(pipe[1], b"a request")
    before = clock.readings
    assert waiting.before_receive() is True
    assert clock.readings - before == 1  # only the deadline was read
