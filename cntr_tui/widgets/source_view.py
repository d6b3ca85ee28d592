"""A source file with line numbers, syntax colours, the current line and breakpoints."""

from __future__ import annotations

from dataclasses import dataclass

from rich.segment import Segment
from rich.style import Style
from rich.syntax import Syntax
from rich.text import Span, Text
from textual.binding import Binding
from textual.geometry import Size
from textual.message import Message
from textual.reactive import reactive
from textual.scroll_view import ScrollView
from textual.strip import Strip

from cntr_tui.widgets.navigation import NAVIGATION, Navigation

GUTTER_MARKS = 2


@dataclass(frozen=True)
class SourceFile:
    """What the view shows: `path` as the program names it, `text` None if not found."""

    path: str
    text: str | None
    looked_in: tuple[str, ...] = ()


def foreground_only(style: Style | str) -> Style:
    """A token style without its background, so the widget's own background shows."""
    if isinstance(style, str):
        style = Style.parse(style)
    return Style(color=style.color, bold=style.bold, italic=style.italic, underline=style.underline)


def highlighted_lines(path: str, text: str, theme: str) -> list[Text]:
    lexer = Syntax.guess_lexer(path, text)
    syntax = Syntax(text, lexer, theme=theme, tab_size=4)
    highlighted = syntax.highlight(text)
    highlighted.style = foreground_only(highlighted.style)
    highlighted.spans = [
        Span(span.start, span.end, foreground_only(span.style)) for span in highlighted.spans
    ]
    return highlighted.split("\n", allow_blank=True)


# the source view's own keys, beside NAVIGATION's
SOURCE = [
    Binding("up", "cursor(-1)", "Up", show=False, id="source.up"),
    Binding("down", "cursor(1)", "Down", show=False, id="source.down"),
    Binding("home", "cursor_to(1)", "Top", show=False, id="source.top"),
    Binding("end", "cursor_to(0)", "Bottom", show=False, id="source.bottom"),
    Binding("ctrl+g", "goto_line", "Go to line", key_display="^g", show=False, id="source.goto"),
]


class SourceView(Navigation, ScrollView, can_focus=True):
    """Line API widget: `cursor_line` moves with keys; `current_line` is where gdb stopped.

    The NAVIGATION keys work on `cursor_line` (search looks in the file's text; matches
    are highlighted); ctrl+g asks for a line number (`go_to_line`)."""

    COMPONENT_CLASSES = {
        "source-view--gutter",
        "source-view--current",
        "source-view--cursor",
        "source-view--breakpoint",
        "source-view--missing",
    }
    DEFAULT_CSS = """
    SourceView { background: $surface; }
    SourceView > .source-view--gutter { color: $text-muted; }
    SourceView > .source-view--current { background: $warning 30%; }
    SourceView > .source-view--cursor { background: $accent 25%; }
    SourceView:focus > .source-view--cursor { background: $accent 45%; }
    SourceView > .source-view--breakpoint { color: $error; text-style: bold; }
    SourceView > .source-view--missing { color: $warning; }
    """
    BINDINGS = [*SOURCE, *NAVIGATION]

    cursor_line: reactive[int] = reactive(1)

    class CursorMoved(Message):
        def __init__(self, path: str, line: int) -> None:
            super().__init__()
            self.path = path
            self.line = line

    def __init__(self, **kwargs: object) -> None:
        super().__init__(**kwargs)  # type: ignore[arg-type]
        self.source: SourceFile | None = None
        self.lines: list[Text] = []
        self.current_line: int | None = None
        self.breakpoint_lines: set[int] = set()

    def on_mount(self) -> None:
        self.app.theme_changed_signal.subscribe(self, self.rehighlight)

    def rehighlight(self, _theme: object = None) -> None:
        """Syntax colours follow the app's theme (dark or light)."""
        source, self.source = self.source, None
        if source is not None and source.text is not None:
            line, current = self.cursor_line, self.current_line
            self.show_file(source, current)
            self.cursor_line = line
        else:
            self.source = source

    @property
    def path(self) -> str | None:
        return self.source.path if self.source is not None else None

    def show_file(self, source: SourceFile, current_line: int | None = None) -> None:
        """Show `source`; keeps the highlighted text when the same file is shown again."""
        if self.source != source:
            self.source = source
            if source.text is None:
                looked = "\n".join(f"  {place}" for place in source.looked_in) or "  (nowhere)"
                self.lines = Text(
                    f"{source.path}: source file not found.\nLooked for it in:\n{looked}"
                ).split("\n")
            else:
                theme = "monokai" if self.app.current_theme.dark else "default"
                self.lines = highlighted_lines(source.path, source.text, theme)
            self.virtual_size = Size(self.content_width(), len(self.lines))
        self.current_line = current_line
        if current_line is not None:
            self.cursor_line = current_line
            # after the layout has taken the new virtual size, or the scroll is clamped
            self.call_after_refresh(self.scroll_to_line, current_line, True)
        self.refresh()

    def show_message(self, message: str) -> None:
        self.source = None
        self.lines = Text(message).split("\n")
        self.current_line = None
        self.virtual_size = Size(self.content_width(), len(self.lines))
        self.refresh()

    def set_breakpoints(self, lines: set[int]) -> None:
        self.breakpoint_lines = set(lines)
        self.refresh()

    def content_width(self) -> int:
        width = max((line.cell_len for line in self.lines), default=0)
        return width + self.gutter_width()

    def gutter_width(self) -> int:
        return len(str(max(len(self.lines), 1))) + GUTTER_MARKS + 2

    def scroll_to_line(self, line: int, center: bool = False) -> None:
        y = line - 1
        height = self.scrollable_content_region.height or 1
        if center:
            self.scroll_to(y=max(0, y - height // 2), animate=False)
        elif y < self.scroll_offset.y:
            self.scroll_to(y=y, animate=False)
        elif y >= self.scroll_offset.y + height:
            self.scroll_to(y=y - height + 1, animate=False)

    def watch_cursor_line(self, line: int) -> None:
        self.call_after_refresh(self.scroll_to_line, line)
        self.refresh()
        if self.source is not None:
            self.post_message(self.CursorMoved(self.source.path, line))

    def validate_cursor_line(self, line: int) -> int:
        return min(max(1, line), max(1, len(self.lines)))

    def action_cursor(self, delta: int) -> None:
        self.cursor_line += delta

    def action_cursor_to(self, line: int) -> None:
        self.cursor_line = line if line > 0 else len(self.lines)

    # --- navigation (0-based lines) and go to line ----------------------------------

    def nav_count(self) -> int:
        return len(self.lines)

    def nav_index(self) -> int:
        return self.cursor_line - 1

    def nav_move(self, index: int) -> None:
        self.cursor_line = index + 1
        self.call_after_refresh(self.scroll_to_line, index + 1, True)

    def nav_show(self, index: int) -> None:
        self.cursor_line = index + 1
        height = self.scrollable_content_region.height or 1
        self.scroll_to(y=max(0, index - height // 2), animate=False, immediate=True)

    def nav_text(self, index: int) -> str:
        return self.line_text(index + 1)

    def go_to_line(self, line: int) -> bool:
        """Put the cursor on `line` (1-based), in the middle of the view; False (nothing
        moves) when the file has no such line. A screen's "file.c:42" jump calls this
        after `show_file`."""
        if not 0 < line <= len(self.lines):
            return False
        self.nav_move(line - 1)
        return True

    def action_goto_line(self) -> None:
        """ctrl+g: a prompt for a line number; Enter goes there, Escape does not."""
        self.search = None
        self.open_bar(f"line (1-{len(self.lines)}): ", self.line_typed, self.line_submitted)

    def line_typed(self, text: str) -> None:
        bar = self.search_bar
        if bar is not None:
            valid = text.strip().isdigit() and 0 < int(text) <= len(self.lines)
            bar.show_status("" if valid or not text.strip() else "no such line")

    def line_submitted(self, text: str) -> None:
        if text.strip().isdigit() and self.go_to_line(int(text)):
            self.close_bar()
        else:
            self.line_typed(text or "?")

    def line_text(self, line: int) -> str:
        return self.lines[line - 1].plain if 0 < line <= len(self.lines) else ""

    def render_line(self, y: int) -> Strip:
        scroll_x, scroll_y = self.scroll_offset
        index = scroll_y + y
        width = self.scrollable_content_region.width
        if index >= len(self.lines):
            return Strip.blank(width, self.rich_style)
        number = index + 1
        gutter_style = self.get_component_rich_style("source-view--gutter")
        marks = Text(" " * GUTTER_MARKS, style=gutter_style)
        if number in self.breakpoint_lines:
            marks = Text("●", style=self.get_component_rich_style("source-view--breakpoint"))
            marks.append(" ")
        if number == self.current_line:
            marks = Text.assemble(marks[:1] if number in self.breakpoint_lines else " ", "▶")
            marks.stylize(self.get_component_rich_style("source-view--breakpoint"), 0, 1)
        digits = len(str(max(len(self.lines), 1)))
        gutter = Text.assemble(marks, Text(f"{number:>{digits}}  ", style=gutter_style))
        body = self.highlighted(self.lines[index].copy())
        if self.source is None or self.source.text is None:
            body.stylize(self.get_component_rich_style("source-view--missing"))
        line = Text.assemble(gutter, body, no_wrap=True, end="")
        line_style = Style()
        if number == self.current_line:
            line_style = self.get_component_rich_style("source-view--current")
        elif number == self.cursor_line:
            line_style = self.get_component_rich_style("source-view--cursor")
        segments = [
            Segment(segment.text, segment.style)
            for segment in line.render(self.app.console)
            if segment.text != "\n"
        ]
        background = self.rich_style + line_style
        strip = Strip(segments).crop_extend(scroll_x, scroll_x + width, background)
        return strip.apply_style(background)
