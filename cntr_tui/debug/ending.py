"""SIGTERM and SIGHUP (our terminal went away) end a gdb front end with a detach."""

from __future__ import annotations

import asyncio
import contextlib
import signal
import sys

# On SIGTERM or SIGHUP, gdb gets this long to detach before it is killed and the trap
# guard detaches gdbserver: gdb may be busy with a command (`shell`, a long `print`).
SIGNAL_DETACH_TIMEOUT = 1.5
DETACH_TIMEOUT = 5.0
ENDING_SIGNALS = (signal.SIGTERM, signal.SIGHUP)


class EndingSignals:
    """While active, SIGTERM or SIGHUP cancels the current asyncio task (a batch run):
    its clean-up detaches. `received` is the signal, if one came."""

    def __init__(self) -> None:
        self.received: int | None = None

    def __enter__(self) -> EndingSignals:
        loop, task = asyncio.get_running_loop(), asyncio.current_task()
        assert task is not None

        def on_signal(number: int) -> None:
            if self.received is None:
                self.received = number
                task.cancel()

        for number in ENDING_SIGNALS:
            loop.add_signal_handler(number, on_signal, number)
        return self

    def __exit__(self, *exc_info: object) -> None:
        for number in ENDING_SIGNALS:
            asyncio.get_running_loop().remove_signal_handler(number)


def say(text: str) -> None:
    with contextlib.suppress(OSError):  # after a SIGHUP, maybe no terminal
        print(f"cntr-tui: {text}", file=sys.stderr)
