"""The shared pane keys (widgets/navigation.py): j/k, g/G, PageUp/PageDown, `/` search
with n/N, in each pane widget hosted alone on a screen that binds n, N and Escape as the
debugger's does (next, -, detach): those keys reach the screen unless a search is active
in the focused widget. Pilot, no sleeps: waits are on the widget's state."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest
from rich.text import Text
from textual.app import App, ComposeResult
from textual.binding import Binding
from textual.pilot import Pilot
from textual.screen import Screen
from textual.widget import Widget
from textual.widgets import DataTable, RichLog, Tree

from cntr_tui.fs.view import FileEntry
from cntr_tui.gdb.records import (
    Frame,
    Instruction,
    MemoryBlock,
    ObjectSymbols,
    Register,
    Thread,
    Variable,
)
from cntr_tui.settings import Settings
from cntr_tui.widgets.disassembly import DisassemblyView
from cntr_tui.widgets.file_tree import FileTree
from cntr_tui.widgets.gdb_console import GdbConsole, ScrollbackLog
from cntr_tui.widgets.locals import LocalsTree
from cntr_tui.widgets.memory import MemoryDump, MemoryView
from cntr_tui.widgets.mount_view import MountTable
from cntr_tui.widgets.navigation import NO_MATCH, SearchBar, SearchInput
from cntr_tui.widgets.registers import RegistersTable
from cntr_tui.widgets.source_view import SourceFile, SourceView
from cntr_tui.widgets.symbols import SymbolsTable
from cntr_tui.widgets.threads import ThreadsTree
from cntr_tui.widgets.watch import WatchTree
from tests.support.fake_debug import FakeOpener
from tests.unit.test_screens import World, app_on, debugger_on_web, until

SOURCE = "\n".join(
    ["#include <stdio.h>", *(f"int value_{n} = {n};" for n in range(1, 60)), "int main(void) {}"]
)


class PaneScreen(Screen[None]):
    """Binds what the debugger screen binds on n, N and Escape; records them."""

    BINDINGS = [
        Binding("n", "record('next')", "Next"),
        Binding("N", "record('N')", "N"),
        Binding("escape", "record('escape')", "Detach"),
    ]

    def __init__(self, widget: Widget) -> None:
        super().__init__()
        self.widget = widget
        self.keys: list[str] = []

    def compose(self) -> ComposeResult:
        yield self.widget

    def action_record(self, what: str) -> None:
        self.keys.append(what)

    def on_memory_view_wanted(self, message: MemoryView.Wanted) -> None:
        self.keys.append(f"memory {message.expression}")


class Host(App[None]):
    CSS = "PaneScreen > * { height: 12; }"

    def __init__(self, widget: Widget) -> None:
        super().__init__()
        self.pane = PaneScreen(widget)

    def on_mount(self) -> None:
        self.push_screen(self.pane)


async def search(pilot: Pilot[None], widget: Widget, query: str) -> SearchBar:
    await pilot.press("slash")
    await until(pilot, lambda: isinstance(pilot.app.focused, SearchInput), "the search input")
    bar = widget.query_one(SearchBar)
    await pilot.press(*query)
    return bar


async def show_source(pilot: Pilot[None], view: SourceView, line: int) -> None:
    view.show_file(SourceFile("/src/x.c", SOURCE), line)
    view.focus()
    await pilot.pause()


async def test_source_view_search_moves_to_matches_and_n_falls_through_without_one() -> None:
    view = SourceView()
    app = Host(view)
    async with app.run_test(size=(80, 16)) as pilot:
        await show_source(pilot, view, 1)
        # no search: n, N and Escape are the screen's
        await pilot.press("n", "N", "escape")
        assert app.pane.keys == ["next", "N", "escape"]

        await pilot.press("j", "j")
        assert view.cursor_line == 3
        await pilot.press("G")
        assert view.cursor_line == len(view.lines) >= 61
        await pilot.press("g")
        assert view.cursor_line == 1
        await pilot.press("pagedown")
        assert view.cursor_line > 5

        await pilot.press("g")
        bar = await search(pilot, view, "value_4")
        # as typed: the first match from where the search started
        await until(pilot, lambda: view.cursor_line == 5, "the first match")
        assert bar.status == "1/11"  # value_4, value_40..value_49
        await pilot.press("enter")
        await until(pilot, lambda: not view.query(SearchBar), "the bar closed")
        assert app.focused is view and view.search_query == "value_4"
        await pilot.press("n")
        assert view.cursor_line == 41  # value_40, on line 41
        assert app.pane.keys == ["next", "N", "escape"]  # n went to the search
        await pilot.press("N", "N")
        assert view.cursor_line == 50  # wrapped back from value_4 to value_49
        # the occurrences are highlighted in the drawn line
        strip = view.render_line(view.cursor_line - 1 - view.scroll_offset.y)
        assert any(seg.style and seg.style.reverse for seg in strip if "value_4" in seg.text)

        # Escape ends the search (the screen does not get it); then n is the screen's
        await pilot.press("escape")
        assert view.search_query is None and app.pane.keys == ["next", "N", "escape"]
        await pilot.press("n")
        assert app.pane.keys == ["next", "N", "escape", "next"]
        # / then Enter on an empty bar repeats the last search
        await pilot.press("g", "slash", "enter")
        await until(pilot, lambda: view.search_query == "value_4", "the search repeated")
        assert view.cursor_line == 5


async def test_source_view_search_without_a_match_says_so_and_escape_goes_back() -> None:
    view = SourceView()
    app = Host(view)
    async with app.run_test(size=(80, 16)) as pilot:
        await show_source(pilot, view, 10)
        bar = await search(pilot, view, "main")
        await until(pilot, lambda: view.cursor_line == 61, "main's line")
        await pilot.press("x", "y")  # "mainxy" is nowhere: the cursor stays
        await until(pilot, lambda: bar.status == NO_MATCH, "no match")
        assert view.cursor_line == 61
        await pilot.press("enter")  # Enter with no match: the bar stays, no search active
        assert view.query(SearchBar) and view.search_query is None
        # typed into the input, n and b are not the screen's keys
        await pilot.press("n")
        assert app.pane.keys == [] and bar.input.value == "mainxyn"
        await pilot.press("escape")
        await until(pilot, lambda: not view.query(SearchBar), "the bar closed")
        assert view.cursor_line == 10 and app.focused is view
        assert app.pane.keys == []  # the bar's Escape did not detach


async def test_source_view_go_to_line() -> None:
    view = SourceView()
    app = Host(view)
    async with app.run_test(size=(80, 16)) as pilot:
        await show_source(pilot, view, 1)
        await pilot.press("ctrl+g")
        await until(pilot, lambda: isinstance(app.focused, SearchInput), "the line prompt")
        bar = view.query_one(SearchBar)
        await pilot.press("9", "9", "enter")  # 99 > 61 lines
        await until(pilot, lambda: bar.status == "no such line", "no such line")
        assert view.cursor_line == 1
        await pilot.press("backspace", "backspace", "4", "2", "enter")
        await until(pilot, lambda: not view.query(SearchBar), "the prompt closed")
        assert view.cursor_line == 42 and view.line_text(42) == "int value_41 = 41;"
        # the line is in the middle of the view, not at an edge
        height = view.scrollable_content_region.height
        await until(pilot, lambda: view.scroll_offset.y == 42 - 1 - height // 2, "centred")
        assert view.go_to_line(0) is False and view.cursor_line == 42


PaneFactory = Callable[[], tuple[Widget, Callable[[], None]]]


@dataclass(frozen=True)
class ShownMount:
    mount_point: str
    fstype: str
    provenance: str = "host"
    source: str = "/dev/sda"
    device: str = "8:1"


def mounts() -> tuple[Widget, Callable[[], None]]:
    table = MountTable()

    def fill() -> None:
        points = [
            ShownMount(f"/mnt/point{n:02}", "tmpfs" if n == 17 else "ext4") for n in range(30)
        ]
        table.show_mounts(points)

    return table, fill


def registers() -> tuple[Widget, Callable[[], None]]:
    table = RegistersTable()

    def fill() -> None:
        names = ["rax", "rbx", "rcx", "rdx", "rsi", "rdi", "rbp", "rsp", "r8", "r9"]
        names += ["r10", "r11", "r12", "r13", "r14", "r15", "rip", "eflags"]
        table.show_registers(
            [Register(n, name, hex(n * 16 + 1)) for n, name in enumerate(names)], 1
        )

    return table, fill


def instructions() -> tuple[Widget, Callable[[], None]]:
    view = DisassemblyView()

    def fill() -> None:
        code = [Instruction(0x1000 + 4 * n, "tick", 4 * n, f"nop {n}") for n in range(30)]
        code[17] = Instruction(0x1000 + 4 * 17, "tick", 68, "call printf")
        view.show_instructions(code, 0x1000)

    return view, fill


def symbols() -> tuple[Widget, Callable[[], None]]:
    table = SymbolsTable()

    def fill() -> None:
        table.show_report(
            [
                ObjectSymbols(f"/lib/lib{n}.so", f"/lib/lib{n}.so", None, "symbols", None, True)
                for n in range(30)
            ]
        )

    return table, fill


async def test_memory_dump_keeps_its_page_keys_and_gains_j_k() -> None:
    view = MemoryView()
    app = Host(view)
    async with app.run_test(size=(100, 16)) as pilot:
        view.show(MemoryBlock(0x1000, bytes(range(128))), None)
        dump = view.query_one(MemoryDump)
        dump.focus()
        await pilot.pause()
        await pilot.press("j", "j", "G")
        assert dump.cursor_row == 7
        await pilot.press("k")
        assert dump.cursor_row == 6
        await pilot.press("pagedown")  # still the next block, not a page of rows
        await until(pilot, lambda: app.pane.keys == ["memory 0x1080"], "the next block")


def threads() -> tuple[Widget, Callable[[], None]]:
    tree = ThreadsTree()

    def fill() -> None:
        tree.show_threads(
            [
                Thread(
                    id=n,
                    target_id=f"Thread 0x7f LWP {100 + n}",
                    lwp=100 + n,
                    name="worker" if n != 7 else "logger",
                    state="stopped",
                    frame=Frame(0, 0x1000, "tick", "threads.c", "/src/threads.c", 42),
                )
                for n in range(1, 20)
            ],
            None,
        )

    return tree, fill


def locals_() -> tuple[Widget, Callable[[], None]]:
    tree = LocalsTree()

    def fill() -> None:
        tree.show_variables(
            [Variable(f"v{n}", str(n), "int") for n in range(25)] + [Variable("needle", "7", "int")]
        )

    return tree, fill


def files() -> tuple[Widget, Callable[[], None]]:
    root = FileEntry("/", "/", "host", True, 0, "root")
    tree = FileTree(root)

    def fill() -> None:
        names = [f"file{n:02}" for n in range(30)]
        names[12] = "libneedle.so"
        entries = [FileEntry(f"/{name}", f"/{name}", "host", False, 10, "root") for name in names]
        tree.fill(tree.root, entries)
        tree.root.expand()

    return tree, fill


def watches() -> tuple[Widget, Callable[[], None]]:
    tree = WatchTree()

    def fill() -> None:
        for n in range(20):
            tree.add_expression(f"w[{n}].total" if n != 9 else "needle->count")
            tree.show_value(tree.expressions[-1], str(n), None)

    return tree, fill


def cursor(widget: Widget) -> int:
    """The row or line the widget's cursor is on."""
    if isinstance(widget, DataTable):
        return widget.cursor_row
    assert isinstance(widget, Tree)
    return widget.cursor_line


def drawn_at(widget: Widget, index: int) -> int:
    """The widget's line (0 at its top) that row or line `index` is drawn on."""
    header = widget.header_height if isinstance(widget, DataTable) and widget.show_header else 0
    return header + index - widget.scroll_offset.y


def last(widget: Widget) -> int:
    if isinstance(widget, DataTable):
        return widget.row_count - 1
    assert isinstance(widget, Tree)
    return widget.last_line


@pytest.mark.parametrize(
    ("factory", "query", "match"),
    [
        (mounts, "tmpfs", 17),
        (registers, "rip", 16),
        (instructions, "printf", 17),
        (symbols, "lib7.", 7),
        (threads, "logger", 6),
        (locals_, "needle", 25),
        (files, "needle", 13),  # line 0 is the root
        (watches, "needle", 9),
    ],
    ids=["mounts", "registers", "disassembly", "symbols", "threads", "locals", "files", "watch"],
)
async def test_panes_navigate_and_search(factory: PaneFactory, query: str, match: int) -> None:
    pane, fill = factory()
    app = Host(pane)
    async with app.run_test(size=(100, 16)) as pilot:
        fill()
        pane.focus()
        await pilot.pause()
        await pilot.press("g", "j", "j", "k")
        assert cursor(pane) == 1
        await pilot.press("G")
        assert cursor(pane) == last(pane) > 10
        await pilot.press("g")
        assert cursor(pane) == 0
        await pilot.press("pagedown")
        assert cursor(pane) > 3
        await pilot.press("g")
        await search(pilot, pane, query)
        await until(pilot, lambda: cursor(pane) == match, "the match")
        # shown, and not under the search bar: the bar goes to the top for the last line
        bar = pane.query_one(SearchBar)
        height = pane.scrollable_content_region.height
        line = drawn_at(pane, match)
        assert 0 <= line < height - 1 or (line == height - 1 and bar.has_class("-top"))
        await pilot.pause()
        assert bar.region.y != pane.region.y + line
        await pilot.press("enter")
        await until(pilot, lambda: not pane.query(SearchBar), "the bar closed")
        await pilot.press("j", "n")  # the only match: n wraps onto it again
        assert cursor(pane) == match and app.pane.keys == []
        await pilot.press("escape", "n")  # the search ended: n is the screen's again
        assert app.pane.keys == ["next"]


async def test_console_scrollback_navigates_and_the_input_keeps_its_keys() -> None:
    console = GdbConsole()
    app = Host(console)
    async with app.run_test(size=(80, 16)) as pilot:
        for n in range(80):
            console.write_output(f"output line {n}" + (" needle" if n == 30 else ""))
        console.focus_input()
        await pilot.pause()
        # typed into the input: g, j, / and n are text, not the scrollback's or screen's
        await pilot.press("g", "j", "slash", "n")
        assert console.input.value == "gj/n" and app.pane.keys == []
        scrollback = console.query_one(ScrollbackLog)
        assert isinstance(scrollback, RichLog)
        # PageUp in the input hands the keys to the scrollback
        await pilot.press("pageup")
        assert app.focused is scrollback
        await pilot.press("g")
        assert scrollback.scroll_offset.y == 0
        await pilot.press("j", "j")
        assert scrollback.scroll_offset.y == 2
        await pilot.press("G")
        assert scrollback.scroll_offset.y == scrollback.max_scroll_y
        await search(pilot, scrollback, "needle")
        await until(pilot, lambda: scrollback.marked_line == 30, "the matching line")
        await pilot.press("enter")
        await until(pilot, lambda: not scrollback.query(SearchBar), "the bar closed")
        top = scrollback.scroll_offset.y
        assert top <= 30 < top + scrollback.scrollable_content_region.height
        strip = scrollback.render_line(30 - top)
        assert any(seg.style and seg.style.reverse for seg in strip)
        await pilot.press("escape")
        assert scrollback.marked_line is None and app.pane.keys == []

        # scrolled up, new output does not move the view; at the end, it follows
        await pilot.press("g")
        console.write_output("new output")
        await pilot.pause()
        assert scrollback.scroll_offset.y == 0
        await pilot.press("G")
        console.write_output("newer output")
        await until(pilot, lambda: scrollback.scroll_offset.y == scrollback.max_scroll_y, "the end")
        assert scrollback.lines[-1].text.startswith("newer output")


def test_binding_ids_are_unique_and_all_have_ids() -> None:
    from cntr_tui.widgets.gdb_console import CONSOLE_INPUT
    from cntr_tui.widgets.navigation import NAVIGATION, SEARCH_BAR
    from cntr_tui.widgets.source_view import SOURCE

    bindings = [*NAVIGATION, *SEARCH_BAR, *SOURCE, *CONSOLE_INPUT]
    ids = [binding.id for binding in bindings]
    assert None not in ids and len(ids) == len(set(ids))


def test_highlight_is_smartcase() -> None:
    from cntr_tui.widgets.navigation import highlight_matches, matching

    assert matching("Value_4", "value") and not matching("value_4", "Value")
    text = highlight_matches(Text("ab AB ab"), "ab")
    assert [(span.start, span.end) for span in text.spans] == [(0, 2), (3, 5), (6, 8)]


# --- in the debugger screen itself, on the fake engine ------------------------------


@pytest.fixture
def world(tmp_path: Path) -> World:
    opener = FakeOpener()
    return World(opener, app_on(opener, Settings(keymap_file=str(tmp_path / "keymap.toml"))))


async def test_in_the_debugger_n_is_next_unless_the_source_view_searches(world: World) -> None:
    engine, app = world.engine, world.app
    async with world.run() as pilot:
        screen = await debugger_on_web(pilot, app, world.recorder)
        source = screen.source
        await until(pilot, lambda: source.source is not None, "the source shown")
        source.focus()
        await pilot.press("n")  # no search: the screen's next
        await until(pilot, lambda: len(engine.called("next")) == 1, "next")
        await until(pilot, lambda: not screen.running, "the step's stop")

        await pilot.press("g", "slash", *"iterations", "enter")
        await until(pilot, lambda: source.search_query == "iterations", "the search")
        first = source.cursor_line
        assert "iterations" in source.line_text(first)
        await pilot.press("n")  # the next match, not a step
        await until(pilot, lambda: source.cursor_line != first, "the next match")
        assert "iterations" in source.line_text(source.cursor_line)
        assert len(engine.called("next")) == 1

        await pilot.press("escape")  # ends the search; the debugger stays
        assert source.search_query is None and app.screen is screen
        await pilot.press("n")
        await until(pilot, lambda: len(engine.called("next")) == 2, "next again")
