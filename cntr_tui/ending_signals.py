"""Signals that end a command turned into an exception, so its `finally` clean-up
runs (a demo container removed, a node debug pod deleted); the caller's handlers are
put back on the way out."""

from __future__ import annotations

import contextlib
import signal
from collections.abc import Callable, Iterator, Sequence
from types import FrameType


def ignore_signals(numbers: Sequence[int]) -> None:
    for number in numbers:
        signal.signal(number, signal.SIG_IGN)


@contextlib.contextmanager
def signals_raising(
    numbers: Sequence[int],
    exception: Callable[[int], BaseException],
    *,
    then_ignored: bool = False,
) -> Iterator[None]:
    """The first of `numbers` raises `exception(signum)`; with `then_ignored` the next
    ones are ignored, so a second Ctrl-C cannot cut the clean-up short."""

    def on_signal(signum: int, frame: FrameType | None) -> None:
        if then_ignored:
            ignore_signals(numbers)
        raise exception(signum)

    previous = {number: signal.signal(number, on_signal) for number in numbers}
    try:
        yield
    finally:
        for number, handler in previous.items():
            signal.signal(number, handler)
