"""One line at the bottom of a screen: what the app is doing and the process state."""

from __future__ import annotations

from rich.text import Text
from textual.reactive import reactive
from textual.widgets import Static

SPINNER = "⠋⠙⠹⠸⠼⠴⠦⠧⠇⠏"


class StatusLine(Static):
    """Shows `busy` with a spinner while a slow step runs, else `state` and `context`."""

    DEFAULT_CSS = """
    StatusLine { height: 1; background: $panel; color: $text; padding: 0 1; }
    StatusLine.-error { background: $error 40%; }
    """

    busy: reactive[str] = reactive("")
    state: reactive[str] = reactive("")
    context: reactive[str] = reactive("")
    frame_index: reactive[int] = reactive(0)

    def on_mount(self) -> None:
        self.set_interval(0.1, self.advance_spinner)

    def advance_spinner(self) -> None:
        if self.busy:
            self.frame_index = (self.frame_index + 1) % len(SPINNER)

    def render(self) -> Text:
        line = Text(no_wrap=True, overflow="ellipsis")
        if self.busy:
            line.append(f"{SPINNER[self.frame_index]} {self.busy}", style="bold")
        elif self.state:
            line.append(self.state, style="bold")
        if self.context:
            line.append(f"  ·  {self.context}", style="dim")
        return line
