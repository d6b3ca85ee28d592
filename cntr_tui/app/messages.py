"""What a screen asks of the app: the screens post these and the app routes them, so no
screen holds or imports another."""

from __future__ import annotations

from pathlib import Path

from textual.message import Message

from cntr_tui.attach.container import Container


class DebugWanted(Message):
    """Open the debugger on a container's process (`host_pid` None: its main one)."""

    def __init__(self, container: Container, host_pid: int | None = None) -> None:
        super().__init__()
        self.container = container
        self.host_pid = host_pid


class FilesWanted(Message):
    """Open the file browser on a container's merged root."""

    def __init__(self, container: Container) -> None:
        super().__init__()
        self.container = container


class BreakpointWanted(Message):
    """A breakpoint at `location` ("path:line" as the container names the path), for
    the container's debugger when it is attached, else for when it attaches."""

    def __init__(self, container: Container, location: str) -> None:
        super().__init__()
        self.container = container
        self.location = location


class ShellWanted(Message):
    """Hand the terminal to an attach session's shell in a container."""

    def __init__(self, container: Container) -> None:
        super().__init__()
        self.container = container


class CoresWanted(Message):
    """Show the cores kept on the host and those the kernel wrote in `container`."""

    def __init__(self, container: Container | None) -> None:
        super().__init__()
        self.container = container


class CoreWanted(Message):
    """Show a kept core (at `core`, on the host) as a snapshot of `container`."""

    def __init__(self, core: Path, container: Container) -> None:
        super().__init__()
        self.core = core
        self.container = container


class SnapshotWanted(Message):
    """Take a snapshot of a container's main process and show it (it runs on)."""

    def __init__(self, container: Container) -> None:
        super().__init__()
        self.container = container
