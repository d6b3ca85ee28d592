"""The keys every pane shares: j/k, g/G, PageUp/PageDown, `/` search with n/N.

One implementation for the three shapes of pane: `TableNavigation` (a DataTable's rows),
`TreeNavigation` (a Tree's visible lines) and `LogNavigation` (a log-like view with no
cursor: j/k scroll, a match is the highlighted line). A widget mixes one in before its
base class and lists `NAVIGATION` in its BINDINGS; a widget with a line cursor of its
own (the source view) subclasses `Navigation` and answers its five hooks.

`/` opens a one-line search bar docked at the bottom of the widget (a child of it):
typing moves to the first match from where the search started, Enter keeps the search
(n/N then go to the next/previous match, wrapping), Escape closes the bar and goes back.
n, N and Escape act only while a search is active (check_action says False otherwise),
so the screen's own n (next), N and Escape (detach) get them the rest of the time.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from rich.style import Style
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal
from textual.widget import Widget
from textual.widgets import Input, Static

if TYPE_CHECKING:
    from textual.widgets import DataTable, RichLog, Tree

# in every pane that has lines; bindings.py lists them for help
NAVIGATION = [
    Binding("j", "nav_down", "Down", show=False, id="nav.down"),
    Binding("k", "nav_up", "Up", show=False, id="nav.up"),
    Binding("g", "nav_first", "First line", show=False, id="nav.first"),
    Binding("G", "nav_last", "Last line", show=False, id="nav.last"),
    Binding("pageup", "nav_page(-1)", "Page up", show=False, id="nav.pageup"),
    Binding("pagedown", "nav_page(1)", "Page down", show=False, id="nav.pagedown"),
    Binding("slash", "search", "Search", key_display="/", show=False, id="nav.search"),
    Binding("n", "search_next", "Next match", show=False, id="nav.next"),
    Binding("N", "search_previous", "Previous match", show=False, id="nav.previous"),
    Binding("escape", "search_clear", "End search", show=False, id="nav.clear"),
]
# in the search bar's input
SEARCH_BAR = [
    Binding("escape", "cancel", "Close search", show=False, id="nav.search_close"),
]
PAGE_IDS = {"nav.pageup", "nav.pagedown"}
# a pane whose PageUp/PageDown mean something else (the memory dump's blocks)
NAVIGATION_WITHOUT_PAGES = [binding for binding in NAVIGATION if binding.id not in PAGE_IDS]
SEARCH_ONLY = {"search_next", "search_previous", "search_clear"}
MATCH_STYLE = Style(reverse=True, bold=True)
NO_MATCH = "no match"


def folded(text: str, query: str) -> tuple[str, str]:
    """Case-insensitive unless the query has a capital (vim's smartcase)."""
    return (text, query) if query != query.lower() else (text.lower(), query)


def matching(text: str, query: str) -> bool:
    haystack, needle = folded(text, query)
    return needle in haystack


def highlight_matches(text: Text, query: str | None, style: Style = MATCH_STYLE) -> Text:
    """`text` with every occurrence of `query` styled (same case rule as `matching`)."""
    if not query:
        return text
    haystack, needle = folded(text.plain, query)
    start = haystack.find(needle)
    while start >= 0:
        text.stylize(style, start, start + len(needle))
        start = haystack.find(needle, start + len(needle))
    return text


class SearchInput(Input):
    BINDINGS = SEARCH_BAR
    DEFAULT_CSS = """
    SearchInput { border: none; height: 1; padding: 0; width: 1fr; background: $panel; }
    SearchInput:focus { border: none; }
    """

    def action_cancel(self) -> None:
        bar = self.parent
        if isinstance(bar, SearchBar):
            bar.cancelled()


class SearchBar(Horizontal):
    """The prompt, the input and a status (`no match`, `2/5`); docked in its widget."""

    DEFAULT_CSS = """
    SearchBar { dock: bottom; height: 1; background: $panel; }
    SearchBar.-top { dock: top; }
    SearchBar > .search-prompt { width: auto; color: $accent; }
    SearchBar > .search-status { width: auto; padding: 0 1; color: $text-muted; }
    SearchBar > .search-status.-no-match { color: $error; }
    """

    def __init__(
        self,
        prompt: str,
        changed: Callable[[str], None],
        submitted: Callable[[str], None],
        cancelled: Callable[[], None],
    ) -> None:
        super().__init__(classes="search-bar")
        self.prompt = prompt
        self.on_changed = changed
        self.on_submitted = submitted
        self.on_cancelled = cancelled

    def compose(self) -> ComposeResult:
        yield Static(self.prompt, classes="search-prompt")
        yield SearchInput(classes="search-input")
        yield Static("", classes="search-status")

    @property
    def input(self) -> SearchInput:
        return self.query_one(SearchInput)

    @property
    def status(self) -> str:
        return str(self.query_one(".search-status", Static).render())

    def show_status(self, text: str) -> None:
        status = self.query_one(".search-status", Static)
        status.update(text)
        status.set_class(text == NO_MATCH, "-no-match")

    def on_input_changed(self, event: Input.Changed) -> None:
        event.stop()
        self.on_changed(event.value)

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        self.on_submitted(event.value)

    def cancelled(self) -> None:
        self.on_cancelled()


@dataclass
class SearchState:
    """`query` is the active search (n/N), None while only typed in the bar; `origin`
    is the line the bar was opened on (Escape goes back there)."""

    origin: int
    query: str | None = None
    status: str = ""
    typed: str = ""


class Navigation:
    """The keys of NAVIGATION for a widget with numbered lines (0-based).

    Hooks: `nav_count`, `nav_index` (the cursor's line), `nav_move` (put the cursor on a
    line and show it), `nav_text` (what search looks in), `nav_page_size`. Mixed in
    before a Widget class. A screen needs nothing but the widget's BINDINGS; it may
    read `search_query` (the active search, if any) and `search_status`.
    """

    search: SearchState | None = None
    last_search: str | None = None  # Enter on an empty bar repeats it

    # --- hooks -------------------------------------------------------------------

    def nav_count(self) -> int:
        raise NotImplementedError

    def nav_index(self) -> int:
        raise NotImplementedError

    def nav_move(self, index: int) -> None:
        raise NotImplementedError

    def nav_text(self, index: int) -> str:
        raise NotImplementedError

    def nav_show(self, index: int) -> None:
        """Put the cursor on a match and show it away from the edges (the search bar
        covers the widget's last line)."""
        self.nav_move(index)

    def nav_drawn_line(self, index: int) -> int:
        """The widget's line (0 at its top) that line `index` is drawn on."""
        return index - self.widget.scroll_offset.y

    def place_bar(self, index: int) -> None:
        """The bar at the top while line `index` is the last one drawn (at the end of
        the content, where no scroll can lift it above the bar)."""
        bar = self.search_bar
        if bar is not None:
            last = self.widget.scrollable_content_region.height - 1
            bar.set_class(self.nav_drawn_line(index) >= last, "-top")

    def nav_page_size(self) -> int:
        widget = self.widget
        return max(1, widget.scrollable_content_region.height - 1)

    # --- the Widget this is mixed into ---------------------------------------------

    @property
    def widget(self) -> Widget:
        assert isinstance(self, Widget)
        return self

    @property
    def is_container(self) -> bool:
        # a line-API widget is no container, but the search bar docked in it is drawn
        return bool(self.widget._nodes)

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        """n, N and Escape only while a search is active: else the screen's keys."""
        if action in SEARCH_ONLY:
            return self.search_query is not None
        return super().check_action(action, parameters)  # type: ignore[misc, no-any-return]

    # --- moving --------------------------------------------------------------------

    def nav_go(self, index: int) -> None:
        count = self.nav_count()
        if count:
            self.nav_move(min(max(0, index), count - 1))

    def action_nav_down(self) -> None:
        self.nav_go(self.nav_index() + 1)

    def action_nav_up(self) -> None:
        self.nav_go(self.nav_index() - 1)

    def action_nav_first(self) -> None:
        self.nav_go(0)

    def action_nav_last(self) -> None:
        self.nav_go(self.nav_count() - 1)

    def action_nav_page(self, direction: int) -> None:
        self.nav_go(self.nav_index() + direction * self.nav_page_size())

    # --- searching -----------------------------------------------------------------

    @property
    def search_query(self) -> str | None:
        return self.search.query if self.search is not None else None

    @property
    def search_status(self) -> str:
        """`2/5` (the match the cursor is on, of how many), `no match`, or ``."""
        return self.search.status if self.search is not None else ""

    @property
    def search_bar(self) -> SearchBar | None:
        bars = self.widget.query_children(SearchBar)
        return bars.first() if bars else None

    def matches(self, query: str) -> list[int]:
        return [index for index in range(self.nav_count()) if matching(self.nav_text(index), query)]

    def search_from(self, query: str, start: int, step: int) -> str:
        """Move to the first match from `start` in direction `step` (wrapping); the
        status it leaves."""
        found = self.matches(query)
        if not found:
            return NO_MATCH
        if step > 0:
            index = next((i for i in found if i >= start), found[0])
        else:
            index = next((i for i in reversed(found) if i <= start), found[-1])
        self.nav_show(index)
        self.place_bar(index)
        return f"{found.index(index) + 1}/{len(found)}"

    def open_bar(
        self,
        prompt: str,
        changed: Callable[[str], None],
        submitted: Callable[[str], None],
    ) -> None:
        widget = self.widget
        if self.search_bar is not None:
            self.search_bar.remove()
        bar = SearchBar(prompt, changed, submitted, self.search_cancelled)
        widget.mount(bar)
        widget.call_after_refresh(lambda: widget.screen.set_focus(bar.input))

    def close_bar(self) -> None:
        widget = self.widget
        bar = self.search_bar
        if bar is not None:
            if widget.screen.focused is not None and bar in widget.screen.focused.ancestors:
                widget.screen.set_focus(widget)
            bar.remove()
        widget.refresh_bindings()
        widget.refresh()

    def action_search(self) -> None:
        """`/`: the search bar, from the cursor's line."""
        self.search = SearchState(self.nav_index())
        self.open_bar("/", self.search_typed, self.search_submitted)

    def show_search_status(self, status: str) -> None:
        if self.search is not None:
            self.search.status = status
        bar = self.search_bar
        if bar is not None:
            bar.show_status(status)

    def search_typed(self, query: str) -> None:
        if self.search is None:
            return
        self.search.typed = query
        if not query:
            self.nav_go(self.search.origin)
            self.show_search_status("")
        else:
            self.show_search_status(self.search_from(query, self.search.origin, +1))
        self.widget.refresh()

    def search_submitted(self, query: str) -> None:
        """Enter: the search stays active (n/N) if it matched; else the bar stays open."""
        if self.search is None:
            return
        query = query or self.last_search or ""
        if not query:
            self.search_cancelled()
            return
        status = self.search_from(query, self.search.origin, +1)
        self.show_search_status(status)
        if status == NO_MATCH:
            return
        self.search.query = self.last_search = query
        self.close_bar()

    def search_cancelled(self) -> None:
        """Escape in the bar: back to where the search started, no search active."""
        if self.search is not None and self.search.query is None:
            self.nav_go(self.search.origin)
        self.search = None
        self.close_bar()

    def search_step(self, step: int) -> None:
        query = self.search_query
        if query is None:
            return
        status = self.search_from(query, self.nav_index() + step, step)
        self.show_search_status(status)
        if status == NO_MATCH:
            self.widget.notify(f"{query}: no match", severity="warning", timeout=3)
        self.widget.refresh()

    def action_search_next(self) -> None:
        self.search_step(+1)

    def action_search_previous(self) -> None:
        self.search_step(-1)

    def action_search_clear(self) -> None:
        """Escape while a search is active (the bar closed): the search ends."""
        self.search = None
        self.close_bar()

    def highlighted(self, text: Text) -> Text:
        """`text` with the active or typed query's occurrences styled (for renderers)."""
        if self.search is None:
            return text
        return highlight_matches(text, self.search.query or self.search.typed)


class TableNavigation(Navigation):
    """For a DataTable with a row cursor: a row's text is its cells' text."""

    @property
    def table(self) -> DataTable[Any]:
        return self  # type: ignore[return-value]

    def nav_count(self) -> int:
        return self.table.row_count

    def nav_index(self) -> int:
        return self.table.cursor_row

    def nav_move(self, index: int) -> None:
        self.table.move_cursor(row=index, scroll=True)

    def nav_drawn_line(self, index: int) -> int:
        table = self.table
        header = table.header_height if table.show_header else 0
        return header + index - table.scroll_offset.y

    def nav_show(self, index: int) -> None:
        table = self.table
        table.move_cursor(row=index, scroll=False)
        header = table.header_height if table.show_header else 0
        rows = table.scrollable_content_region.height - header
        table.scroll_to(y=max(0, index - rows // 2), animate=False, immediate=True)

    def nav_text(self, index: int) -> str:
        cells = self.table.get_row_at(index)
        return "  ".join(cell.plain if isinstance(cell, Text) else str(cell) for cell in cells)


class TreeNavigation(Navigation):
    """For a Tree: its visible lines (search looks in the labels of expanded nodes)."""

    @property
    def tree(self) -> Tree[Any]:
        return self  # type: ignore[return-value]

    def nav_count(self) -> int:
        return self.tree.last_line + 1

    def nav_index(self) -> int:
        return max(0, self.tree.cursor_line)

    def nav_move(self, index: int) -> None:
        self.tree.cursor_line = index
        self.tree.scroll_to_line(index, animate=False)

    def nav_show(self, index: int) -> None:
        tree = self.tree
        tree.cursor_line = index
        height = tree.scrollable_content_region.height
        tree.scroll_to(y=max(0, index - height // 2), animate=False, immediate=True)

    def nav_text(self, index: int) -> str:
        node = self.tree.get_node_at_line(index)
        return node.label.plain if node is not None else ""


class LogNavigation(Navigation):
    """For a log-like view with no cursor: j/k and g/G scroll; a search match becomes
    `marked_line`, drawn highlighted (`mark_strip` in the widget's render_line) and
    brought to the middle. `log_count` / `log_text` are the hooks."""

    marked_line: int | None = None

    def log_count(self) -> int:
        raise NotImplementedError

    def log_text(self, index: int) -> str:
        raise NotImplementedError

    def nav_count(self) -> int:
        return self.log_count()

    def nav_text(self, index: int) -> str:
        return self.log_text(index)

    def nav_index(self) -> int:
        widget = self.widget
        top = widget.scroll_offset.y
        height = widget.scrollable_content_region.height
        if self.marked_line is not None and top <= self.marked_line < top + height:
            return self.marked_line
        return top

    def nav_move(self, index: int) -> None:
        widget = self.widget
        self.marked_line = index
        height = widget.scrollable_content_region.height or 1
        widget.scroll_to(y=max(0, index - height // 2), animate=False, immediate=True)
        widget.refresh()

    def action_nav_down(self) -> None:
        self.widget.scroll_relative(y=1, animate=False, immediate=True)

    def action_nav_up(self) -> None:
        self.widget.scroll_relative(y=-1, animate=False, immediate=True)

    def action_nav_first(self) -> None:
        self.widget.scroll_home(animate=False, immediate=True)

    def action_nav_last(self) -> None:
        self.widget.scroll_end(animate=False, immediate=True)

    def action_nav_page(self, direction: int) -> None:
        step = direction * self.nav_page_size()
        self.widget.scroll_relative(y=step, animate=False, immediate=True)

    def search_cancelled(self) -> None:
        self.marked_line = None
        super().search_cancelled()

    def action_search_clear(self) -> None:
        self.marked_line = None
        super().action_search_clear()


class ScrollbackNavigation(LogNavigation):
    """For a RichLog: its rendered lines."""

    @property
    def rich_log(self) -> RichLog:
        return self  # type: ignore[return-value]

    def log_count(self) -> int:
        return len(self.rich_log.lines)

    def log_text(self, index: int) -> str:
        return self.rich_log.lines[index].text
