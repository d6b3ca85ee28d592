"""A hex + ASCII dump of one block of the program's memory, with an input for the address
or expression to read; the bytes that changed since the block shown before are
highlighted."""

from __future__ import annotations

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.message import Message
from textual.widget import Widget
from textual.widgets import DataTable, Input, Static

from cntr_tui.gdb.records import MemoryBlock
from cntr_tui.widgets.navigation import NAVIGATION_WITHOUT_PAGES, TableNavigation

ROW = 16
WORD = 8
CHANGED_STYLE = "bold reverse"
CHANGED_CLASS = "changed"  # on the MemoryView while a byte of the block shown changed

# the dump's keys; bindings.py lists the app's, these work in the memory pane
MEMORY = [
    Binding("pagedown", "next_block", "Next block", id="memory.next"),
    Binding("pageup", "previous_block", "Previous block", id="memory.previous"),
    Binding("p", "follow", "Follow pointer", id="memory.follow"),
]


def printable(byte: int) -> str:
    return chr(byte) if 0x20 <= byte < 0x7F else "."


def changed_addresses(block: MemoryBlock, previous: MemoryBlock | None) -> set[int]:
    """The addresses in `block` whose byte differs from `previous`'s at the same address
    (an address `previous` did not cover is not a change)."""
    if previous is None:
        return set()
    changed: set[int] = set()
    for offset, byte in enumerate(block.data):
        before = block.address + offset - previous.address
        if 0 <= before < len(previous.data) and previous.data[before] != byte:
            changed.add(block.address + offset)
    return changed


def dump_row(address: int, data: bytes, changed: set[int]) -> tuple[Text, Text, Text]:
    hex_cells = Text()
    ascii_cells = Text()
    for offset, byte in enumerate(data):
        style = CHANGED_STYLE if address + offset in changed else ""
        if offset:
            hex_cells.append("  " if offset == WORD else " ")
        hex_cells.append(f"{byte:02x}", style=style)
        ascii_cells.append(printable(byte), style=style)
    # 12 digits hold any user-space address of x86-64/AArch64; longer ones print whole
    return Text(f"{address:#014x}", style="dim"), hex_cells, ascii_cells


class MemoryDump(TableNavigation, DataTable[Text]):
    # a subclass's bindings replace DataTable's own for the same keys (pageup/pagedown)
    BINDINGS = [*MEMORY, *NAVIGATION_WITHOUT_PAGES]

    def __init__(self, **kwargs: object) -> None:
        super().__init__(cursor_type="row", **kwargs)  # type: ignore[arg-type]

    def on_mount(self) -> None:
        self.add_columns("address", "hex", "ascii")

    def action_next_block(self) -> None:
        self.view.wanted_block(+1)

    def action_previous_block(self) -> None:
        self.view.wanted_block(-1)

    def action_follow(self) -> None:
        self.view.follow(self.cursor_row)

    @property
    def view(self) -> MemoryView:
        return self.query_ancestor(MemoryView)


class MemoryView(Widget):
    """`show` a block; the user's reads come up as `Wanted`. `changed`: the addresses
    drawn in CHANGED_STYLE."""

    DEFAULT_CSS = """
    MemoryView { height: 1fr; }
    MemoryView > #memory-error { color: $error; height: auto; }
    MemoryView > MemoryDump { height: 1fr; }
    """

    class Wanted(Message):
        """Read memory at `expression` (an address or an expression gdb evaluates)."""

        def __init__(self, expression: str) -> None:
            super().__init__()
            self.expression = expression

    def __init__(self, **kwargs: object) -> None:
        super().__init__(**kwargs)  # type: ignore[arg-type]
        self.block: MemoryBlock | None = None
        self.changed: set[int] = set()

    def compose(self) -> ComposeResult:
        yield Input(placeholder="address or expression", id="memory-input")
        yield Static("", id="memory-error")
        yield MemoryDump(id="memory-dump")

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        expression = event.value.strip()
        if expression:
            self.post_message(self.Wanted(expression))
            # the dump's keys (and the screen's, such as `:` for the console) from here
            self.query_one(MemoryDump).focus()

    def show(self, block: MemoryBlock, previous: MemoryBlock | None) -> None:
        self.block = block
        self.changed = changed_addresses(block, previous)
        self.set_class(bool(self.changed), CHANGED_CLASS)
        self.query_one("#memory-error", Static).update("")
        dump = self.query_one(MemoryDump)
        dump.clear()
        for offset in range(0, len(block.data), ROW):
            address = block.address + offset
            row = dump_row(address, block.data[offset : offset + ROW], self.changed)
            dump.add_row(*row, key=f"{address:#x}")

    def show_error(self, text: str) -> None:
        self.query_one("#memory-error", Static).update(text)

    @property
    def error(self) -> str:
        return str(self.query_one("#memory-error", Static).render())

    def wanted_block(self, direction: int) -> None:
        if self.block is None:
            return
        size = max(len(self.block.data), ROW)
        address = max(self.block.address + direction * size, 0)
        self.post_message(self.Wanted(hex(address)))

    def follow(self, row: int) -> None:
        """Read where the row's first word (little-endian) points."""
        if self.block is None:
            return
        word = self.block.data[row * ROW : row * ROW + WORD]
        if len(word) < WORD:
            self.show_error("no whole word on this row")
            return
        self.post_message(self.Wanted(hex(int.from_bytes(word, "little"))))
