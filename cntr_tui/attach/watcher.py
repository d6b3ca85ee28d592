"""A live list of containers: an asyncio iterator of changes, for the TUI.

Usage, in a Textual worker or any asyncio task::

    async with watch_containers(types=None) as watcher:
        async for change in watcher:
            # change.kind is "added", "removed" or "updated"; change.container the
            # Container (for "removed", as it was last seen)
            ...

The first changes are an "added" for every container present at start (pass
`initial=False` to skip them; `watcher.containers` then holds them). After that a
change is reported within about a second of it happening:
- docker's event stream (when dockerd answers) triggers a new listing at once, so
  docker's start/stop/pause/rename show immediately;
- every `poll_interval` seconds a cheap /proc scan compares the set of (PID, mount)
  namespace pairs in use: a container starting or stopping of any runtime changes it
  and triggers a new listing, repeated shortly after, since runtimes report a state
  a moment after its namespaces exist;
- every `full_interval` seconds a full listing catches the rest (e.g. a paused LXC).
Listings run in a worker thread (`asyncio.to_thread`): the event loop never blocks
on a runtime. A runtime that fails in one listing keeps its previous containers
(no false "removed"); `watcher.warnings` holds the latest listing's warnings.
Leaving the `async with` (or `await watcher.aclose()`) stops the docker event thread.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import threading
import time
from collections.abc import AsyncIterator, Iterable
from dataclasses import dataclass
from typing import Any, Literal

from cntr_tui.attach.container import Container
from cntr_tui.attach.discovery import Listing, list_containers, wanted_runtimes
from cntr_tui.attach.runtimes.base import DiscoveryConfig
from cntr_tui.linux.namespaces import namespace_inode
from cntr_tui.linux.procfs import pids

ChangeKind = Literal["added", "removed", "updated"]
SETTLE_DELAYS = (0.3, 1.0)


@dataclass(frozen=True)
class ContainerChange:
    kind: ChangeKind
    container: Container


def namespace_fingerprint() -> frozenset[tuple[int, int]]:
    """The (pid, mnt) namespace inode pairs of every process: changes when a container
    starts or stops, whatever its runtime."""
    pairs: set[tuple[int, int]] = set()
    for pid in pids():
        with contextlib.suppress(OSError):
            pairs.add((namespace_inode(pid, "pid"), namespace_inode(pid, "mnt")))
    return frozenset(pairs)


def diff(
    previous: dict[tuple[str, str], Container],
    listing: Listing,
) -> tuple[dict[tuple[str, str], Container], list[ContainerChange]]:
    """The new state and the changes from `previous` to `listing`.

    Containers of runtimes that failed in `listing` are carried over unchanged.
    """
    current = {c.key: c for c in listing.containers}
    for key, container in previous.items():
        if container.runtime in listing.failed_runtimes and key not in current:
            current[key] = container
    changes = [ContainerChange("removed", c) for k, c in previous.items() if k not in current]
    for key, container in current.items():
        if key not in previous:
            changes.append(ContainerChange("added", container))
        elif previous[key] != container:
            changes.append(ContainerChange("updated", container))
    return current, changes


class _DockerEvents:
    """A thread reading docker's container events; calls `notify` on each one."""

    def __init__(self, config: DiscoveryConfig, notify: Any) -> None:
        self.config = config
        self.notify = notify
        self.stream: Any = None
        self.stopped = threading.Event()
        self.thread = threading.Thread(target=self._run, name="docker-events", daemon=True)

    def start(self) -> None:
        self.thread.start()

    def _run(self) -> None:
        base_url = self.config.resolved_docker_host()
        if base_url.startswith("unix://") and not os.path.exists(base_url[len("unix://") :]):
            return
        try:
            import docker

            client = docker.APIClient(base_url=base_url, timeout=self.config.timeout)
            self.stream = client.events(decode=True, filters={"type": "container"})
            if self.stopped.is_set():
                return
            for _event in self.stream:
                self.notify()
        except Exception:  # docker is optional here: polling still finds everything
            return
        finally:
            if self.stream is not None:
                with contextlib.suppress(Exception):
                    self.stream.close()

    def stop(self) -> None:
        self.stopped.set()
        if self.stream is not None:
            with contextlib.suppress(Exception):
                self.stream.close()


class ContainerWatcher:
    """Async iterator of ContainerChange; see the module documentation."""

    def __init__(
        self,
        types: Iterable[str] | None = None,
        *,
        config: DiscoveryConfig | None = None,
        poll_interval: float = 0.25,
        full_interval: float = 10.0,
        initial: bool = True,
    ) -> None:
        self.types = wanted_runtimes(types)
        self.config = config or DiscoveryConfig()
        self.poll_interval = poll_interval
        self.full_interval = full_interval
        self.initial = initial
        self.containers: dict[tuple[str, str], Container] = {}
        self.warnings: list[str] = []
        # Set once the first listing is in `containers`: what starts later is "added".
        self.listed = asyncio.Event()
        self._events: _DockerEvents | None = None

    async def __aenter__(self) -> ContainerWatcher:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        if self._events is not None:
            self._events.stop()
            self._events = None

    def __aiter__(self) -> AsyncIterator[ContainerChange]:
        return self._changes()

    async def _list(self) -> list[ContainerChange]:
        listing = await asyncio.to_thread(list_containers, self.types, config=self.config)
        self.warnings = listing.warnings
        self.containers, changes = diff(self.containers, listing)
        return changes

    async def _changes(self) -> AsyncIterator[ContainerChange]:
        loop = asyncio.get_running_loop()
        triggered = asyncio.Event()
        if "docker" in self.types or "containerd" in self.types or "process" in self.types:
            self._events = _DockerEvents(
                self.config, lambda: loop.call_soon_threadsafe(triggered.set)
            )
            self._events.start()
        try:
            changes = await self._list()
            self.listed.set()
            if self.initial:
                for change in changes:
                    yield change
            fingerprint = await asyncio.to_thread(namespace_fingerprint)
            last_full = time.monotonic()
            settle_at: list[float] = []
            while True:
                # asyncio.timeout, not wait_for: in 3.11 wait_for can swallow a
                # cancellation that races with the event, and the watcher never stops.
                with contextlib.suppress(TimeoutError):
                    async with asyncio.timeout(self.poll_interval):
                        await triggered.wait()
                now = time.monotonic()
                relist = triggered.is_set()
                triggered.clear()
                new_fingerprint = await asyncio.to_thread(namespace_fingerprint)
                if new_fingerprint != fingerprint:
                    fingerprint = new_fingerprint
                    relist = True
                    settle_at = [now + delay for delay in SETTLE_DELAYS]
                if settle_at and now >= settle_at[0]:
                    settle_at.pop(0)
                    relist = True
                if now - last_full >= self.full_interval:
                    relist = True
                if relist:
                    last_full = now
                    for change in await self._list():
                        yield change
        finally:
            await self.aclose()


def watch_containers(
    types: Iterable[str] | None = None,
    *,
    config: DiscoveryConfig | None = None,
    poll_interval: float = 0.25,
    full_interval: float = 10.0,
    initial: bool = True,
) -> ContainerWatcher:
    """A ContainerWatcher over the runtimes in `types` (default all); see the module doc."""
    return ContainerWatcher(
        types,
        config=config,
        poll_interval=poll_interval,
        full_interval=full_interval,
        initial=initial,
    )
