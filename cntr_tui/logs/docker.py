"""docker logs through the docker SDK: `logs(stream=True, follow=True, tail=N,
timestamps=True)`, one request for stdout and one for stderr (the SDK's logs stream
drops which stream a frame came from), each read by its own thread and merged by
docker's stamps. The daemon ends both streams when the container stops; `close`
shuts their sockets (the SDK's CancellableStream.close) and waits for the threads.
A container whose log driver is `none` is refused at once (docker answers 501 for it).
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
from collections.abc import Callable
from typing import TYPE_CHECKING

from cntr_tui.attach.container import Container
from cntr_tui.attach.runtimes import docker_api
from cntr_tui.attach.runtimes.base import DiscoveryConfig, RuntimeAbsent, RuntimeFailed
from cntr_tui.logs.lines import StampedLines
from cntr_tui.logs.merge import Arrival, merge_by_time
from cntr_tui.logs.records import LogLine
from cntr_tui.logs.stream import ERROR_STREAM, Emit, LogStream, NoLogs

if TYPE_CHECKING:
    from docker.types.daemon import CancellableStream

STREAMS = ("stdout", "stderr")
API_TIMEOUT = 10.0
CHECK_TIMEOUT = 1.0  # the look at the log driver, on the caller's thread
UNREADABLE_DRIVERS = ("none",)


class StreamReader(threading.Thread):
    """One of docker's log streams, read in a thread; each line handed to `deliver`
    on the event loop, then None at its end."""

    def __init__(
        self,
        base_url: str,
        container_id: str,
        stream: str,
        tail: int,
        deliver: Callable[[LogLine | None], None],
    ) -> None:
        super().__init__(name=f"docker logs {stream} {container_id[:12]}", daemon=True)
        self.base_url = base_url
        self.container_id = container_id
        self.stream = stream
        self.tail = tail
        self.deliver = deliver
        self.lock = threading.Lock()
        self.stopping = False
        self.cancellable: CancellableStream | None = None

    def run(self) -> None:
        try:
            self.read()
        except Exception as error:  # the SDK's and requests' errors; say them
            if not self.stopping:
                self.deliver(LogLine(f"docker logs failed: {error}", ERROR_STREAM))
        finally:
            self.deliver(None)  # the last call: `None` tells the loop this thread is done

    def read(self) -> None:
        import docker  # here: ~0.2 s of imports, paid in this thread when logs are read

        with docker.APIClient(base_url=self.base_url, timeout=API_TIMEOUT) as client:
            frames = client.logs(
                self.container_id,
                stdout=self.stream == "stdout",
                stderr=self.stream == "stderr",
                stream=True,
                follow=True,
                tail=self.tail,
                timestamps=True,
            )
            with self.lock:
                self.cancellable = frames
                stop_now = self.stopping
            if stop_now:
                frames.close()
            lines = StampedLines(self.stream)
            for chunk in frames:
                for line in lines.feed(chunk):
                    self.deliver(line)
            for line in lines.rest():
                self.deliver(line)

    def stop(self) -> None:
        """Make `run` end soon: the stream's socket is shut (from any thread)."""
        with self.lock:
            self.stopping = True
            cancellable = self.cancellable
        if cancellable is not None:
            with contextlib.suppress(OSError):
                cancellable.close()


def refuse_unreadable(base_url: str, container: Container) -> None:
    """NoLogs when the container's log driver keeps nothing to read. One inspect
    (~2 ms); a daemon that does not answer within CHECK_TIMEOUT is left to lines()."""
    try:
        reply = docker_api.inspect(base_url, container.id, CHECK_TIMEOUT)
    except (RuntimeAbsent, RuntimeFailed):
        return
    driver = ((reply.get("HostConfig") or {}).get("LogConfig") or {}).get("Type")
    if driver in UNREADABLE_DRIVERS:
        raise NoLogs(
            f"docker container {container.name} keeps no log: its log driver is {driver!r}"
        )


def docker_logs(container: Container, tail: int, base_url: str | None = None) -> LogStream:
    url = base_url or DiscoveryConfig().resolved_docker_host()
    refuse_unreadable(url, container)

    async def produce(emit: Emit) -> None:
        loop = asyncio.get_running_loop()
        arrivals: asyncio.Queue[Arrival] = asyncio.Queue()

        ended = [asyncio.Event() for _ in STREAMS]

        def deliverer(index: int) -> Callable[[LogLine | None], None]:
            def arrived(line: LogLine | None) -> None:
                arrivals.put_nowait((index, line))
                if line is None:
                    ended[index].set()

            def deliver(line: LogLine | None) -> None:
                with contextlib.suppress(RuntimeError):  # the loop is closed: no reader left
                    loop.call_soon_threadsafe(arrived, line)

            return deliver

        readers = [
            StreamReader(url, container.id, stream, tail, deliverer(index))
            for index, stream in enumerate(STREAMS)
        ]
        for reader in readers:
            reader.start()
        try:
            await merge_by_time(arrivals, len(readers), emit)
        finally:
            for reader in readers:
                reader.stop()
            for reader, done in zip(readers, ended, strict=True):
                await done.wait()
                reader.join()

    return LogStream(f"docker logs {container.name}", produce)
