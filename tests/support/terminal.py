"""A real terminal for the real binary: tmux, its screen, its keys."""

from __future__ import annotations

import os
import subprocess
import sys
import time
import uuid
from collections.abc import Callable
from pathlib import Path

CNTR_TUI = Path(sys.executable).with_name("cntr-tui")


SCREEN_DEADLINE = 60.0


class Terminal:
    """One tmux server of our own (its own socket), one 160x48 window."""

    def __init__(self, command: str) -> None:
        self.socket = f"cntr-test-{uuid.uuid4().hex[:8]}"
        # The shell reports how the app ended and keeps the pane open to read it.
        # COLUMNS/LINES (set under pytest) would override the window's real size.
        script = (
            f"unset COLUMNS LINES; export TERM=xterm-256color; {command}; "
            'echo "cntr-tui exited $?"; exec sleep 600'
        )
        self.tmux(
            "-f",
            "/dev/null",
            "new-session",
            "-d",
            "-s",
            "t",
            "-x",
            "160",
            "-y",
            "48",
            "sh",
            "-c",
            script,
        )

    def tmux(self, *args: str) -> str:
        result = subprocess.run(
            ["tmux", "-L", self.socket, *args], capture_output=True, text=True, check=True
        )
        return result.stdout

    def screen(self) -> str:
        return self.tmux("capture-pane", "-p", "-t", "t")

    def keys(self, *keys: str) -> None:
        self.tmux("send-keys", "-t", "t", *keys)

    def text(self, text: str) -> None:
        self.tmux("send-keys", "-t", "t", "-l", text)

    def wait_for(self, condition: Callable[[str], object], what: str, deadline: float) -> str:
        end = time.monotonic() + deadline
        while True:
            shown = self.screen()
            if condition(shown):
                return shown
            if time.monotonic() > end:
                raise AssertionError(f"{what} not on screen after {deadline:.0f}s:\n{shown}")
            time.sleep(0.1)  # polling the screen: tmux has no change notification

    def alternate_screen(self) -> bool:
        return self.tmux("display-message", "-p", "-t", "t", "#{alternate_on}").strip() == "1"

    def app_pid(self) -> int:
        shell = int(self.tmux("display-message", "-p", "-t", "t", "#{pane_pid}"))
        children = Path(f"/proc/{shell}/task/{shell}/children").read_text().split()
        return int(children[0])

    def close(self) -> None:
        subprocess.run(["tmux", "-L", self.socket, "kill-server"], capture_output=True)
        # kill-server leaves the socket file behind
        folder = Path(os.environ.get("TMUX_TMPDIR", "/tmp")) / f"tmux-{os.getuid()}"
        (folder / self.socket).unlink(missing_ok=True)


def open_debugger(term: Terminal, name: str) -> None:
    term.wait_for(lambda s: "containers" in s and "Debug" in s, "the list", SCREEN_DEADLINE)
    term.keys("/")
    term.wait_for(lambda s: "typing a filter" in s, "the filter field", 10)
    term.text(name)  # other containers may fill the screen: filter to ours
    # The name is in the filter field at once; its row once the list has it.
    term.wait_for(lambda s: ", 1 shown" in s, "the container in the list", SCREEN_DEADLINE)
    term.keys("Enter")  # leaves the filter, the table has the one row
    term.wait_for(lambda s: "filtered by" in s, "the filter kept", 10)
    term.keys("g")
    term.wait_for(
        lambda s: "threads.c" in s and "worker-2" in s and "stopped" in s,
        "threads and the source",
        SCREEN_DEADLINE,
    )
