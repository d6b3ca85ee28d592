"""Two (or more) streams of timed lines, each in its order, merged into one by time.

docker and podman hand stdout and stderr over apart (two requests, two pipes), each
line stamped when the runtime received it, which is also the order the runtime keeps
them in. A line is let through once every other open stream has a later line waiting
or has ended, or after HOLD_SECONDS with nothing earlier from the others: the runtime
sends each line the moment it stamps it, so an earlier one is not that late.
"""

from __future__ import annotations

import asyncio
import time as clock
from collections import deque

from cntr_tui.logs.records import LogLine
from cntr_tui.logs.stream import Emit

HOLD_SECONDS = 0.1
Arrival = tuple[int, LogLine | None]  # (stream index, line); None: that stream ended


def _time(line: LogLine) -> float:
    return line.time if line.time is not None else float("-inf")


async def merge_by_time(
    arrivals: asyncio.Queue[Arrival], streams: int, emit: Emit, hold: float = HOLD_SECONDS
) -> None:
    """Emit the lines `arrivals` brings in time order, until all `streams` ended."""
    pending: list[deque[tuple[float, LogLine]]] = [deque() for _ in range(streams)]
    open_ = set(range(streams))

    def ready() -> int | None:
        heads = [(_time(queue[0][1]), index) for index, queue in enumerate(pending) if queue]
        if not heads:
            return None
        _, first = min(heads)
        waiting = all(pending[other] or other not in open_ for other in open_ - {first})
        return first if waiting else None

    while True:
        while (index := ready()) is not None:
            emit(pending[index].popleft()[1])
        if not open_:
            return  # with every stream ended, ready() let all that was pending through
        oldest = min((queue[0][0] for queue in pending if queue), default=None)
        timeout = None if oldest is None else max(0.0, oldest + hold - clock.monotonic())
        try:
            index, line = await asyncio.wait_for(arrivals.get(), timeout)
        except TimeoutError:
            held = sorted(
                (_time(line), index, arrived, line)
                for index, queue in enumerate(pending)
                for arrived, line in queue
            )
            for queue in pending:
                queue.clear()
            for *_, line in held:
                emit(line)
            continue
        if line is None:
            open_.discard(index)
        else:
            pending[index].append((clock.monotonic(), line))
