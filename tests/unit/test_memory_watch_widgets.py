"""The memory dump and the watch tree (issue 14), each hosted alone in a tiny App and
driven by Pilot: highlights of changed bytes/values, the messages their keys post."""

from __future__ import annotations

from rich.text import Text
from textual.app import App, ComposeResult
from textual.message import Message
from textual.pilot import Pilot
from textual.widget import Widget
from textual.widgets import Input

from cntr_tui.gdb.records import MemoryBlock, Variable
from cntr_tui.widgets.memory import CHANGED_CLASS, CHANGED_STYLE, MemoryDump, MemoryView
from cntr_tui.widgets.watch import WatchInput, WatchTree
from tests.unit.test_screens import until

BASE = 0x7FFC0000


class Host(App[None]):
    """Hosts one widget and records the messages it posts."""

    def __init__(self, widget: Widget) -> None:
        super().__init__()
        self.widget = widget
        self.received: list[Message] = []

    def compose(self) -> ComposeResult:
        yield self.widget

    def on_memory_view_wanted(self, message: MemoryView.Wanted) -> None:
        self.received.append(message)

    def on_watch_tree_added(self, message: WatchTree.Added) -> None:
        self.received.append(message)

    def on_watch_tree_removed(self, message: WatchTree.Removed) -> None:
        self.received.append(message)

    def on_watch_tree_expand_wanted(self, message: WatchTree.ExpandWanted) -> None:
        self.received.append(message)

    def wanted(self) -> list[str]:
        return [m.expression for m in self.received if isinstance(m, MemoryView.Wanted)]


def styles_of(cell: Text, text: str) -> set[str]:
    """The styles the cell draws `text` (one byte's hex) in."""
    start = cell.plain.index(text)
    return {
        str(span.style)
        for span in cell.spans
        if span.start <= start and start + len(text) <= span.end
    }


def styles_at(cell: Text, index: int) -> set[str]:
    return {str(span.style) for span in cell.spans if span.start <= index < span.end}


async def test_a_byte_that_changed_is_highlighted_and_an_unchanged_one_is_not() -> None:
    view = MemoryView()
    app = Host(view)
    async with app.run_test():
        before = MemoryBlock(BASE, bytes(range(0x40, 0x60)))
        after_data = bytearray(before.data)
        after_data[3] = 0xEE  # row 0, byte 3: 0x43 'C' becomes 0xee
        view.show(before, None)
        dump = view.query_one(MemoryDump)
        assert dump.row_count == 2
        assert not view.has_class(CHANGED_CLASS)
        view.show(MemoryBlock(BASE, bytes(after_data)), before)
        assert view.changed == {BASE + 3}
        assert view.has_class(CHANGED_CLASS)
        address, hex_cells, ascii_cells = dump.get_row_at(0)
        assert address.plain == "0x00007ffc0000"
        assert CHANGED_STYLE in styles_of(hex_cells, "ee")
        assert CHANGED_STYLE not in styles_of(hex_cells, "44")  # byte 4, unchanged
        assert ascii_cells.plain[3:5] == ".D"  # 0xee is not printable; 'D' is
        assert CHANGED_STYLE in styles_at(ascii_cells, 3)
        assert CHANGED_STYLE not in styles_at(ascii_cells, 4)


async def test_the_ascii_column_shows_printable_bytes_and_dots_for_the_others() -> None:
    view = MemoryView()
    async with Host(view).run_test():
        view.show(MemoryBlock(BASE, b"hi!\x00\x7f\x1f~ " + bytes(8)), None)
        _, hex_cells, ascii_cells = view.query_one(MemoryDump).get_row_at(0)
        assert ascii_cells.plain == "hi!...~ " + "." * 8
        assert hex_cells.plain.startswith("68 69 21 00 7f 1f 7e 20  00")


async def test_submitting_the_input_posts_wanted_with_its_text() -> None:
    view = MemoryView()
    app = Host(view)
    async with app.run_test() as pilot:
        view.query_one(Input).focus()
        await pilot.press(*"&buf[2]", "enter")
        await until(pilot, lambda: app.wanted(), "Wanted")
        assert app.wanted() == ["&buf[2]"]


async def test_page_keys_want_the_next_and_previous_blocks() -> None:
    view = MemoryView()
    app = Host(view)
    async with app.run_test() as pilot:
        view.show(MemoryBlock(BASE, bytes(64)), None)
        view.query_one(MemoryDump).focus()
        await pilot.press("pagedown", "pageup")
        await until(pilot, lambda: len(app.wanted()) == 2, "two Wanted")
        assert app.wanted() == [hex(BASE + 64), hex(BASE - 64)]


async def test_following_a_pointer_wants_the_address_in_the_cursor_rows_first_word() -> None:
    view = MemoryView()
    app = Host(view)
    async with app.run_test() as pilot:
        target = 0x55AA00112233
        data = bytes(16) + target.to_bytes(8, "little") + b"\xff" * 8
        view.show(MemoryBlock(BASE, data), None)
        view.query_one(MemoryDump).focus()
        await pilot.press("down", "p")
        await until(pilot, lambda: app.wanted(), "Wanted")
        assert app.wanted() == [hex(target)]


async def test_show_error_shows_the_text() -> None:
    view = MemoryView()
    async with Host(view).run_test():
        view.show_error("Cannot access memory at address 0x0")
        assert view.error == "Cannot access memory at address 0x0"


async def add_watch(pilot: Pilot[None], app: Host, expression: str) -> None:
    await pilot.press("a")
    await until(pilot, lambda: isinstance(app.screen, WatchInput), "the watch input")
    await pilot.press(*expression, "enter")
    await until(pilot, lambda: not isinstance(app.screen, WatchInput), "the input closed")


async def test_the_keys_add_and_remove_watches_with_messages() -> None:
    tree = WatchTree()
    app = Host(tree)
    async with app.run_test() as pilot:
        tree.focus()
        await add_watch(pilot, app, "counter")
        await add_watch(pilot, app, "w->name")
        await until(pilot, lambda: len(app.received) == 2, "two Added")
        assert tree.expressions == ["counter", "w->name"]
        assert [(type(m), m.expression) for m in app.received] == [  # type: ignore[attr-defined]
            (WatchTree.Added, "counter"),
            (WatchTree.Added, "w->name"),
        ]
        tree.move_cursor(tree.root.children[0])
        await pilot.press("x")
        await until(pilot, lambda: len(app.received) == 3, "Removed")
        assert isinstance(app.received[2], WatchTree.Removed)
        assert app.received[2].expression == "counter"
        assert tree.expressions == ["w->name"]


async def test_a_value_that_changed_is_highlighted_and_the_same_value_is_not() -> None:
    tree = WatchTree()
    async with Host(tree).run_test():
        tree.add_expression("counter")
        tree.add_expression("total")
        tree.show_value("counter", "1", None)
        tree.show_value("total", "7", None)
        tree.show_value("counter", "2", None)
        tree.show_value("total", "7", None)
        assert tree.changed == {"counter"}
        counter, total = (node.label for node in tree.root.children)
        assert counter.plain == "counter = 2"
        assert CHANGED_STYLE in {str(span.style) for span in counter.spans}
        assert total.plain == "total = 7"
        assert CHANGED_STYLE not in {str(span.style) for span in total.spans}
        tree.show_value("total", None, 'No symbol "total" in current context.')
        assert "No symbol" in tree.root.children[1].label.plain


async def test_expanding_a_struct_wants_its_members_and_show_children_shows_them() -> None:
    tree = WatchTree()
    app = Host(tree)
    async with app.run_test() as pilot:
        tree.add_expression("*w")
        tree.add_expression("counter")
        tree.show_value("*w", '{id = 3, name = 0x4006f0 "web", pos = {...}}', None)
        tree.show_value("counter", "5", None)
        node, leaf = tree.root.children
        assert node.allow_expand and not leaf.allow_expand
        node.expand()
        await until(
            pilot,
            lambda: any(isinstance(m, WatchTree.ExpandWanted) for m in app.received),
            "ExpandWanted",
        )
        wanted = [m for m in app.received if isinstance(m, WatchTree.ExpandWanted)]
        assert [m.expression for m in wanted] == ["*w"]
        tree.show_children(
            "*w",
            [
                Variable("id", "3", "int"),
                Variable("name", '0x4006f0 "web"', "char *"),
                Variable("pos", None, "struct point", child_count=2),
            ],
        )
        labels = [child.label.plain for child in node.children]
        assert labels == [
            "id (int) = 3",
            'name (char *) = 0x4006f0 "web"',
            "pos (struct point) = …",
        ]
        assert node.children[2].allow_expand
        assert node.children[2].data is not None
        assert node.children[2].data.expression == "(*w).pos"


async def test_a_member_struct_expands_by_its_own_expression() -> None:
    tree = WatchTree()
    app = Host(tree)
    async with app.run_test() as pilot:
        tree.add_expression("*w")
        tree.show_value("*w", "{id = 3, pos = {x = 1, y = 2}}", None)
        tree.show_children("*w", [Variable("id", "3", "int"), Variable("pos", "{...}", "point")])
        pos = tree.root.children[0].children[1]
        pos.expand()
        await until(
            pilot,
            lambda: any(isinstance(m, WatchTree.ExpandWanted) for m in app.received[1:]),
            "ExpandWanted for the member",
        )
        assert [m.expression for m in app.received[1:]] == ["(*w).pos"]  # type: ignore[attr-defined]
        tree.show_children("(*w).pos", [Variable("x", "1", "int"), Variable("y", "2", "int")])
        assert [child.label.plain for child in pos.children] == ["x (int) = 1", "y (int) = 2"]
        assert pos.children[0].data is not None
        assert pos.children[0].data.expression == "((*w).pos).x"


async def test_escape_in_the_watch_input_adds_nothing() -> None:
    tree = WatchTree()
    app = Host(tree)
    async with app.run_test() as pilot:
        tree.focus()
        await pilot.press("a")
        await until(pilot, lambda: isinstance(app.screen, WatchInput), "the watch input")
        await pilot.press("x", "escape")
        await until(pilot, lambda: not isinstance(app.screen, WatchInput), "the input closed")
        await pilot.pause()
        assert tree.expressions == []
        assert app.received == []


async def test_the_memory_keys_are_remapped_by_their_ids() -> None:
    view = MemoryView()
    app = Host(view)
    async with app.run_test() as pilot:
        app.set_keymap({"memory.follow": "f"})
        view.show(MemoryBlock(BASE, (0x1234).to_bytes(8, "little") + bytes(8)), None)
        view.query_one(MemoryDump).focus()
        await pilot.press("p")
        await pilot.pause()
        assert app.wanted() == []  # p no longer follows
        await pilot.press("f")
        await until(pilot, lambda: app.wanted(), "Wanted")
        assert app.wanted() == ["0x1234"]


async def test_following_a_row_shorter_than_a_word_shows_an_error() -> None:
    view = MemoryView()
    app = Host(view)
    async with app.run_test() as pilot:
        view.show(MemoryBlock(BASE, b"\x01\x02\x03"), None)
        view.query_one(MemoryDump).focus()
        await pilot.press("p")
        await until(pilot, lambda: view.error, "the error")
        assert app.wanted() == []
