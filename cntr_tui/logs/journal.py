"""A registered systemd-nspawn machine's journal: `journalctl -M NAME -f -n N -o json`.

journalctl -M reads the machine's journal through systemd-machined, so a machine
started with `--register=no` (or where machined does not run) has none to read.
journalctl -f does not end with the machine: it is stopped when the machine's leader
process ends.
"""

from __future__ import annotations

import asyncio
import json
import os
import shutil

from cntr_tui.attach.container import Container
from cntr_tui.logs.child import process_end, stop_child
from cntr_tui.logs.records import LogLine
from cntr_tui.logs.stream import Emit, LogStream, NoLogs

MACHINES_DIR = "/run/systemd/machines"  # machined's state: one file per registered machine
STREAM = "journal"


def parse_entry(raw: str) -> LogLine | None:
    """One line of `journalctl -o json` -> LogLine (None for a line that is not an entry).

    MESSAGE is a string, or a list of byte values when it is not valid UTF-8;
    __REALTIME_TIMESTAMP is microseconds since the epoch, as a string."""
    try:
        entry = json.loads(raw)
    except ValueError:
        return None
    if not isinstance(entry, dict):
        return None
    message = entry.get("MESSAGE")
    if isinstance(message, list):
        message = bytes(value & 0xFF for value in message if isinstance(value, int)).decode(
            errors="replace"
        )
    elif not isinstance(message, str):
        message = ""
    stamp = entry.get("__REALTIME_TIMESTAMP")
    time = int(stamp) / 1e6 if isinstance(stamp, str) and stamp.isdigit() else None
    return LogLine(message.removesuffix("\n"), STREAM, time)


def journal_logs(container: Container, tail: int, machines_dir: str = MACHINES_DIR) -> LogStream:
    name = container.name
    if not os.path.exists(os.path.join(machines_dir, name)):
        raise NoLogs(
            f"systemd-nspawn machine {name} has no journal to read: it is not registered "
            "with systemd-machined (journalctl -M needs it)"
        )
    executable = shutil.which("journalctl")
    if executable is None:
        raise NoLogs(f"journalctl is not installed: the journal of machine {name} cannot be read")
    argv = [executable, "-M", name, "-f", "-n", str(tail), "-o", "json", "--no-pager"]

    async def produce(emit: Emit) -> None:
        child = await asyncio.create_subprocess_exec(
            *argv,
            stdin=asyncio.subprocess.DEVNULL,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.DEVNULL,
            start_new_session=True,
            limit=1 << 20,
        )
        assert child.stdout is not None

        async def stop_at_the_end() -> None:
            await process_end(container.pid)
            await stop_child(child)

        watchers = [asyncio.create_task(stop_at_the_end())] if container.pid > 0 else []
        try:
            while raw := await child.stdout.readline():
                if (line := parse_entry(raw.decode(errors="replace"))) is not None:
                    emit(line)
        finally:
            for watcher in watchers:
                watcher.cancel()
            if watchers:
                await asyncio.wait(watchers)
            await stop_child(child)

    return LogStream(f"journal of machine {name}", produce)
