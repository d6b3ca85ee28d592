"""The container's own log stream, as the screen feeds it: lines with their time and
stream (stderr drawn apart), the program's stops marked between them, or one line
saying why there is no log. Keeps the last `max_lines`; follows the end unless the
user has scrolled up; the NAVIGATION keys and `/` search work in it."""

from __future__ import annotations

import re
from collections import deque
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from itertools import islice

from rich.cells import cell_len
from rich.segment import Segment
from rich.style import Style
from rich.text import Text
from textual.geometry import Size
from textual.scroll_view import ScrollView
from textual.strip import Strip

from cntr_tui.widgets.navigation import MATCH_STYLE, NAVIGATION, LogNavigation, matching

MAX_LINES = 5000
STOP_RULE = "──"
# control characters other than tab would move the terminal's cursor when drawn
CONTROL = re.compile("[\x00-\x08\x0a-\x1f\x7f]")


def printable(line: str) -> str:
    """`line` as it can be drawn: colour escapes (programs' ANSI colours) and other
    control characters dropped, tabs expanded (a CRLF line's CR too)."""
    line = line.rstrip("\r")
    if "\x1b" in line:
        line = Text.from_ansi(line).plain
    if CONTROL.search(line):
        line = CONTROL.sub("", line)
    return line.expandtabs() if "\t" in line else line


def clock(time: float) -> str:
    """HH:MM:SS.mmm of `time` (seconds since the epoch), in local time."""
    moment = datetime.fromtimestamp(time)
    return moment.strftime("%H:%M:%S.") + f"{moment.microsecond // 1000:03d}"


@dataclass(frozen=True)
class LogEntry:
    """One drawn line: `kind` is the stream ("stdout", "stderr", the source's own
    name) or "stop" for a stop marker; `time` its seconds since the epoch, if known."""

    text: str
    kind: str
    time: float | None = None

    @property
    def stamp(self) -> str:
        """HH:MM:SS.mmm or "" (made when drawn: most lines of a burst never are)."""
        return clock(self.time) if self.time is not None else ""

    @property
    def plain(self) -> str:
        stamp = self.stamp
        return f"{stamp} {self.text}" if stamp else self.text


class LogsPane(LogNavigation, ScrollView, can_focus=True):
    """Lines of `append` and `mark_stop`, or the one line of `unavailable`."""

    COMPONENT_CLASSES = {
        "logs-pane--time",
        "logs-pane--stderr",
        "logs-pane--stop",
        "logs-pane--message",
    }
    DEFAULT_CSS = """
    LogsPane { background: $surface; }
    LogsPane > .logs-pane--time { color: $text-muted; }
    LogsPane > .logs-pane--stderr { color: $error; }
    LogsPane > .logs-pane--stop { color: $warning; text-style: bold; }
    LogsPane > .logs-pane--message { color: $text-muted; text-style: italic; }
    """
    BINDINGS = NAVIGATION

    def __init__(self, max_lines: int = MAX_LINES, **kwargs: object) -> None:
        super().__init__(**kwargs)  # type: ignore[arg-type]
        self.entries: deque[LogEntry] = deque(maxlen=max_lines)
        self.message: str | None = None
        self.source_title: str | None = None
        self.following = True  # at the end: new lines scroll into view
        self.widest = 0
        self.dropped = 0  # lines dropped from the front since the last update
        self.fresh = 0  # lines added since the last update
        self.update_pending = False

    # --- what the screen calls ---------------------------------------------------------

    def set_source(self, title: str) -> None:
        """Where the lines come from (ContainerLogs.source, e.g. "docker logs web"):
        the pane's border title (shown when its CSS gives it a border) and
        `source_title`, for the screen's tab or status."""
        self.source_title = title
        self.border_title = title

    def append(self, text: str, stream: str = "stdout", time: float | None = None) -> None:
        """One line of the log (a LogLine's text, stream and time): stderr drawn in
        its own colour, `time` as HH:MM:SS.mmm before it. Cheap: the drawing waits for
        the next refresh, so a screen may call it for every line of a burst."""
        for line in text.rstrip("\n").split("\n"):
            self.add(LogEntry(printable(line), stream, time))

    def append_lines(self, lines: Iterable[tuple[str, str, float | None]]) -> None:
        """Several (text, stream, time) at once: the log's tail when it is opened."""
        for text, stream, time in lines:
            self.append(text, stream, time)

    def mark_stop(self, text: str, time: float | None = None) -> None:
        """A marker line between the log's lines where the program stopped, e.g.
        "stopped: breakpoint 1 in tick, thread 3" (drawn "── … ──"), so the user sees
        what it printed just before; the screen calls it at each Stopped."""
        self.add(LogEntry(f"{STOP_RULE} {text} {STOP_RULE}", "stop", time))

    def unavailable(self, reason: str) -> None:
        """No log for this container (open_logs' error, the stream's end): one line
        with `reason` instead of the lines; a later `append` replaces it."""
        self.entries.clear()
        self.message = reason
        self.widest = cell_len(reason)
        self.marked_line = None
        self.schedule_update()

    @property
    def lines(self) -> list[str]:
        """The lines as drawn (time and text), oldest first."""
        if self.message is not None:
            return [self.message]
        return [entry.plain for entry in self.entries]

    # --- keeping the lines -----------------------------------------------------------

    def add(self, entry: LogEntry) -> None:
        if self.message is not None:
            self.message = None
            self.widest = 0
        if len(self.entries) == self.entries.maxlen:
            self.dropped += 1
        self.entries.append(entry)
        self.fresh += 1
        self.schedule_update()

    def schedule_update(self) -> None:
        if not self.update_pending:
            self.update_pending = True
            self.call_later(self.update_lines)

    def update_lines(self) -> None:
        """Once per burst: the new size, the view kept on the same lines (when lines
        were dropped from the front) or at the end."""
        self.update_pending = False
        dropped, self.dropped = self.dropped, 0
        fresh, self.fresh = min(self.fresh, len(self.entries)), 0
        for entry in islice(reversed(self.entries), fresh):
            self.widest = max(self.widest, cell_len(entry.plain))
        if self.marked_line is not None:
            self.marked_line = self.marked_line - dropped if self.marked_line >= dropped else None
        self.virtual_size = Size(self.widest, self.log_count())
        if self.following:
            self.scroll_end(animate=False, x_axis=False)
        elif dropped:
            self.scroll_to(y=max(0, self.scroll_offset.y - dropped), animate=False)
        self.refresh()

    def watch_scroll_y(self, old_value: float, new_value: float) -> None:
        super().watch_scroll_y(old_value, new_value)
        self.following = round(new_value) >= self.max_scroll_y

    def on_resize(self) -> None:
        if self.following:
            self.scroll_end(animate=False, x_axis=False)

    # --- navigation ------------------------------------------------------------------

    def log_count(self) -> int:
        return 1 if self.message is not None else len(self.entries)

    def log_text(self, index: int) -> str:
        if self.message is not None:
            return self.message if index == 0 else ""
        return self.entries[index].plain if 0 <= index < len(self.entries) else ""

    def matches(self, query: str) -> list[int]:
        # in one pass: a deque's indexing walks from an end
        return [index for index, line in enumerate(self.lines) if matching(line, query)]

    # --- drawing ---------------------------------------------------------------------

    def line_of(self, index: int) -> Text:
        if self.message is not None:
            return Text(self.message, style=self.get_component_rich_style("logs-pane--message"))
        entry = self.entries[index]
        line = Text(no_wrap=True, end="")
        stamp = entry.stamp
        if stamp:
            line.append(stamp, style=self.get_component_rich_style("logs-pane--time"))
            line.append(" ")
        style = Style()
        if entry.kind == "stderr":
            style = self.get_component_rich_style("logs-pane--stderr")
        elif entry.kind == "stop":
            style = self.get_component_rich_style("logs-pane--stop")
        line.append(entry.text, style=style)
        return self.highlighted(line)

    def render_line(self, y: int) -> Strip:
        scroll_x, scroll_y = self.scroll_offset
        index = scroll_y + y
        width = self.scrollable_content_region.width
        if index >= self.log_count():
            return Strip.blank(width, self.rich_style)
        line = self.line_of(index)
        segments = [
            Segment(segment.text, segment.style)
            for segment in line.render(self.app.console)
            if segment.text != "\n"
        ]
        background = self.rich_style + (MATCH_STYLE if index == self.marked_line else Style())
        strip = Strip(segments).crop_extend(scroll_x, scroll_x + width, background)
        return strip.apply_style(background)
