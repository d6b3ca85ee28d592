"""The gdb console: any command, its output below, history on up/down."""

from __future__ import annotations

from typing import Self

from rich.console import RenderableType
from rich.text import Text
from textual import events
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.message import Message
from textual.strip import Strip
from textual.widgets import Input, RichLog

from cntr_tui.widgets.navigation import MATCH_STYLE, NAVIGATION, ScrollbackNavigation

HISTORY_LIMIT = 500


# the console input's keys (the scrollback's are NAVIGATION's)
CONSOLE_INPUT = [
    Binding("up", "history(-1)", "Previous command", show=False, id="console.previous"),
    Binding("down", "history(1)", "Next command", show=False, id="console.next"),
    Binding("escape", "leave", "Leave the console", show=False, id="console.leave"),
    Binding("pageup", "scrollback", "Scrollback", show=False, id="console.scrollback"),
]


class HistoryInput(Input):
    BINDINGS = CONSOLE_INPUT

    def __init__(self, **kwargs: object) -> None:
        super().__init__(**kwargs)  # type: ignore[arg-type]
        self.history: list[str] = []
        self.position = 0

    def remember(self, command: str) -> None:
        if command and (not self.history or self.history[-1] != command):
            self.history.append(command)
            del self.history[:-HISTORY_LIMIT]
        self.position = len(self.history)

    async def _on_key(self, event: events.Key) -> None:
        if event.key == "enter":
            # Here, in order with the characters: as Input's binding, the submit ran once
            # the key had bubbled up to the app, after keys typed behind it were inserted
            # ("delete 1" and "next 1000" typed together became "delete 1next 1000").
            event.stop()
            event.prevent_default()
            value, self.value = self.value, ""
            self.post_message(self.Submitted(self, value))
            return
        await super()._on_key(event)

    def action_leave(self) -> None:
        self.post_message(GdbConsole.Left())

    def action_scrollback(self) -> None:
        """PageUp while typing: the keys go to the scrollback, a page up from its end."""
        console = self.parent
        if isinstance(console, GdbConsole):
            log = console.log_view
            self.screen.set_focus(log)
            log.action_nav_page(-1)

    def action_history(self, step: int) -> None:
        if not self.history:
            return
        self.position = min(max(0, self.position + step), len(self.history))
        self.value = self.history[self.position] if self.position < len(self.history) else ""
        self.cursor_position = len(self.value)


class ScrollbackLog(ScrollbackNavigation, RichLog):
    """The console's output; NAVIGATION's keys act here (never while typing in the
    input below, which is not inside it), a search match drawn highlighted."""

    BINDINGS = NAVIGATION

    def write(
        self,
        content: RenderableType | object,
        width: int | None = None,
        expand: bool = False,
        shrink: bool = True,
        scroll_end: bool | None = None,
        animate: bool = False,
    ) -> Self:
        """As RichLog's, but new output scrolls into view only while the view is at the
        end: a user reading or searching higher up stays where they are."""
        if scroll_end is None and not self.is_vertical_scroll_end:
            scroll_end = False
        return super().write(content, width, expand, shrink, scroll_end, animate)

    def render_line(self, y: int) -> Strip:
        strip = super().render_line(y)
        if self.marked_line is not None and self.scroll_offset.y + y == self.marked_line:
            return strip.apply_style(MATCH_STYLE)
        return strip


class GdbConsole(Vertical):
    DEFAULT_CSS = """
    GdbConsole { height: 1fr; }
    GdbConsole > RichLog { height: 1fr; background: $surface; }
    GdbConsole > HistoryInput { dock: bottom; }
    """

    class Left(Message):
        """Escape in the console: hand the keys back to the panes (not a detach)."""

    class CommandEntered(Message):
        def __init__(self, command: str) -> None:
            super().__init__()
            self.command = command

    def compose(self) -> ComposeResult:
        yield ScrollbackLog(id="console-log", wrap=True, markup=False, highlight=False)
        yield HistoryInput(placeholder="(gdb) any command; ↑/↓ history", id="console-input")

    @property
    def log_view(self) -> ScrollbackLog:
        return self.query_one(ScrollbackLog)

    @property
    def input(self) -> HistoryInput:
        return self.query_one(HistoryInput)

    def focus_input(self) -> None:
        # at once, not after a refresh: keys typed right after `:` belong to the console
        self.screen.set_focus(self.input)

    def write_output(self, text: str, style: str = "") -> None:
        self.log_view.write(Text(text.rstrip("\n"), style=style))

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        command = event.value.strip()  # the input cleared itself (HistoryInput._on_key)
        if not command:
            return
        self.input.remember(command)
        self.write_output(f"(gdb) {command}", style="bold")
        self.post_message(self.CommandEntered(command))
