"""An LXC container's console log: the file `lxc.console.logfile` names in its config,
written by lxc-start's monitor with everything the container prints on its console."""

from __future__ import annotations

import os

from cntr_tui.attach.container import Container
from cntr_tui.logs.follow import follow
from cntr_tui.logs.records import LogLine
from cntr_tui.logs.stream import Emit, LogStream, NoLogs

LXC_PATH = "/var/lib/lxc"
CONSOLE_LOG_KEY = "lxc.console.logfile"
STREAM = "console"


def config_value(text: str, key: str) -> str | None:
    """The last value of `key` in an LXC config (`key = value` lines, `#` comments)."""
    found = None
    for line in text.splitlines():
        name, separator, value = line.partition("=")
        if separator and name.strip() == key and not name.lstrip().startswith("#"):
            found = value.strip() or None
    return found


def console_log_path(container: Container) -> str:
    config = os.path.join(container.runtime_namespace or LXC_PATH, container.name, "config")
    try:
        with open(config, encoding="utf-8", errors="replace") as file:
            path = config_value(file.read(), CONSOLE_LOG_KEY)
    except OSError as error:
        raise NoLogs(
            f"cannot read the config of LXC container {container.name}: {error.strerror}"
        ) from None
    if path is None:
        raise NoLogs(
            f"LXC container {container.name} keeps no console log "
            f"({CONSOLE_LOG_KEY} is not set in {config})"
        )
    return path


def lxc_logs(container: Container, tail: int) -> LogStream:
    path = console_log_path(container)

    async def produce(emit: Emit) -> None:
        async for text in follow(path, tail, container.pid or None):
            emit(LogLine(text.removesuffix("\r"), STREAM))  # a console's lines end in \r\n

    return LogStream(f"console log of LXC {container.name}: {path}", produce)
