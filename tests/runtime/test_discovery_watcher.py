"""The live watcher reports real containers starting and stopping, live.

The 1-second target is a speed figure: bench/bench_listing.py measures it. Here a
generous deadline only proves the changes arrive without a manual refresh, so the test
does not fail on a loaded machine."""

from __future__ import annotations

import asyncio
import contextlib
import time
from dataclasses import dataclass, field

import pytest

from cntr_tui.attach.container import Container
from cntr_tui.attach.discovery import Listing
from cntr_tui.attach.watcher import ContainerChange, diff, watch_containers

DEADLINE = 10.0


@dataclass
class Recorder:
    """Collects (monotonic time, change) from a watcher running in a task."""

    changes: list[tuple[float, ContainerChange]] = field(default_factory=list)
    arrived: asyncio.Event = field(default_factory=asyncio.Event)

    async def consume(self, watcher) -> None:  # type: ignore[no-untyped-def]
        async for change in watcher:
            self.changes.append((time.monotonic(), change))
            self.arrived.set()

    async def wait_for(self, kind: str, pid: int, since: float, timeout: float) -> float:
        """Seconds from `since` until a `kind` change of the container with `pid`."""
        deadline = since + timeout
        while True:
            for when, change in self.changes:
                if change.kind == kind and change.container.pid == pid:
                    return when - since
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                seen = [(c.kind, c.container.runtime, c.container.pid) for _, c in self.changes]
                raise AssertionError(f"no {kind} of pid {pid} within {timeout} s; saw {seen}")
            self.arrived.clear()
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(remaining):
                    await self.arrived.wait()


@pytest.mark.parametrize("runtime", ["docker", "process", "lxc"])
async def test_start_and_stop_are_reported_live(start_container, runtime: str) -> None:
    recorder = Recorder()
    async with watch_containers(initial=False) as watcher:
        task = asyncio.create_task(recorder.consume(watcher))
        try:
            async with asyncio.timeout(30):
                await watcher.listed.wait()
            started = await asyncio.to_thread(start_container, runtime)
            ready_at = time.monotonic()
            delay = await recorder.wait_for("added", started.pid, ready_at, DEADLINE)
            [added] = [c for _, c in recorder.changes if c.container.pid == started.pid]
            assert added.container.runtime == runtime

            await asyncio.to_thread(started.remove)
            removed_at = time.monotonic()
            await recorder.wait_for("removed", started.pid, removed_at, DEADLINE)
            print(f"{runtime}: added after {delay:.2f} s")
        finally:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                async with asyncio.timeout(10):  # the watcher must stop when cancelled
                    await task


def test_diff_keeps_containers_of_a_failed_runtime() -> None:
    docker = Container("docker", "a" * 64, "web", 10)
    lxc = Container("lxc", "box", "box", 20)
    previous = {docker.key: docker, lxc.key: lxc}
    # docker failed this time: its container is not "removed"; lxc's paused one is updated
    paused = Container("lxc", "box", "box", 20, status="paused")
    current, changes = diff(previous, Listing([paused], ["docker: boom"], frozenset({"docker"})))
    assert current == {docker.key: docker, lxc.key: paused}
    assert changes == [ContainerChange("updated", paused)]
    _, changes = diff(current, Listing([], [], frozenset()))
    assert sorted(c.container.runtime for c in changes if c.kind == "removed") == ["docker", "lxc"]
