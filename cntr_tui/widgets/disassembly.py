"""The selected frame's instructions around its PC, the PC's line marked; with mixed
source, a dimmed source row ("threads.c:42  the line's text") before each run of
instructions of one line. A breakpoint is asked for at the instruction under the cursor
(`want_breakpoint`); `location_at_cursor` is what run-to-cursor runs to.

The listings of the last KEPT_LISTINGS functions shown are kept: a stop whose frame is
in one of them is shown from it (`show_kept`), with no gdb call. A function's code does
not change while it is debugged (gdb shows a breakpoint's original bytes); asking gdb
again was most of the pane's share of a stop (-data-disassemble with source of the
whole function, its MI parsed: 30-40 ms of a ~120 ms stop, for 10 threads stopping in
one of two functions)."""

from __future__ import annotations

import os
from collections import OrderedDict
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass

from rich.text import Text
from textual.message import Message
from textual.widgets import DataTable
from textual.widgets.data_table import ColumnKey

from cntr_tui.gdb.records import Instruction
from cntr_tui.widgets.navigation import NAVIGATION, TableNavigation

PC_MARK = "▶"
BREAKPOINT_MARK = "●"
PC_STYLE = "bold reverse"
SOURCE_STYLE = "dim"
KEPT_LISTINGS = 8  # functions whose rows are kept for later stops in them

# the text of line `line` of the file gdb calls `fullname` (or `file` when it has no
# fullname), None when it cannot be read: a mapping keyed (name, line) or a function
SourceText = Mapping[tuple[str, int], str] | Callable[[str, int], str | None]


@dataclass(frozen=True)
class SourceRow:
    """The source line a run of instructions belongs to; `first` is its first
    instruction (where `b` on this row puts the breakpoint)."""

    file: str
    fullname: str | None
    line: int
    text: str | None
    first: Instruction

    @property
    def location(self) -> str:
        return f"{self.file}:{self.line}"


Row = Instruction | SourceRow


@dataclass(frozen=True)
class Listing:
    """One function's rows as shown: what a later stop in it is shown from."""

    function: str
    instructions: tuple[Instruction, ...]
    rows: tuple[Row, ...]
    addresses: frozenset[int]


def listing_of(instructions: Sequence[Instruction], rows: Sequence[Row]) -> Listing | None:
    """The instructions as one function's listing: None unless they all name the same
    function (gdb's fallback of 64 bytes around a PC with no symbol names none)."""
    functions = {instruction.function for instruction in instructions}
    if len(functions) != 1 or None in functions:
        return None
    (function,) = functions
    addresses = frozenset(instruction.address for instruction in instructions)
    return Listing(str(function), tuple(instructions), tuple(rows), addresses)


def line_text(source: SourceText | None, names: Sequence[str | None], line: int) -> str | None:
    for name in names:
        if source is None or name is None:
            continue
        text = source.get((name, line)) if isinstance(source, Mapping) else source(name, line)
        if text is not None:
            return text
    return None


def with_source_rows(instructions: Sequence[Instruction], source: SourceText | None) -> list[Row]:
    """The instructions, each run of one source line preceded by its SourceRow."""
    rows: list[Row] = []
    previous: tuple[str | None, int] | None = None
    for instruction in instructions:
        name = instruction.fullname or instruction.file
        key = (name, instruction.line) if instruction.line is not None else None
        if key is not None and key != previous and instruction.line is not None:
            shown = instruction.file or os.path.basename(name or "") or "??"
            names = (instruction.fullname, instruction.file)
            text = line_text(source, names, instruction.line)
            rows.append(SourceRow(shown, instruction.fullname, instruction.line, text, instruction))
        previous = key
        rows.append(instruction)
    return rows


def where(instruction: Instruction) -> str:
    if instruction.function is None:
        return ""
    return f"<{instruction.function}+{instruction.offset or 0}>"


class DisassemblyView(TableNavigation, DataTable[Text]):
    """Rows of `show_instructions` (`shown_rows`: instructions and source rows, as drawn;
    `instructions`: the instructions alone); `pc_address` is the marked line's address."""

    BINDINGS = NAVIGATION

    class BreakpointWanted(Message):
        """A breakpoint at the instruction at `address` (gdb's `*ADDRESS`)."""

        def __init__(self, address: int) -> None:
            super().__init__()
            self.address = address

        @property
        def location(self) -> str:
            return f"*{self.address:#x}"

    def __init__(self, **kwargs: object) -> None:
        super().__init__(cursor_type="row", **kwargs)  # type: ignore[arg-type]
        self.instructions: list[Instruction] = []
        self.shown_rows: list[Row] = []
        self.pc_address: int | None = None
        self.breakpoint_addresses: set[int] = set()
        self.column_keys: list[ColumnKey] = []
        self.listings: OrderedDict[tuple[str, int], Listing] = OrderedDict()

    def on_mount(self) -> None:
        self.column_keys = self.add_columns(" ", "address", "where", "instruction")

    def show_instructions(
        self,
        instructions: Sequence[Instruction],
        pc: int | None,
        source: SourceText | None = None,
    ) -> None:
        """Show `instructions`, the one at `pc` marked and under the cursor.

        Instructions that carry a line (disassemble(with_source=True)) get a source row
        before each run of one line; `source` gives its text: a Mapping from
        (name, line) to the line's text, or a callable (name, line) -> text or None,
        asked with the instruction's fullname first, then its file (a screen passes the
        source text it already has, e.g. the source pane's file). Without it, or when it
        has no text, the row shows "file:line" alone."""
        shown_rows = with_source_rows(instructions, source)
        listing = listing_of(instructions, shown_rows)
        if listing is not None:
            key = (listing.function, instructions[0].address)
            self.listings[key] = listing
            self.listings.move_to_end(key)
            while len(self.listings) > KEPT_LISTINGS:
                self.listings.popitem(last=False)
        self.show_rows(list(instructions), shown_rows, pc)

    def show_kept(self, function: str | None, pc: int | None) -> bool:
        """Show the kept listing of `function` that holds an instruction at `pc`, that
        instruction marked; False when none is kept (the screen asks gdb then)."""
        if function is None or pc is None:
            return False
        for key, listing in self.listings.items():
            if listing.function == function and pc in listing.addresses:
                self.listings.move_to_end(key)
                self.show_rows(list(listing.instructions), list(listing.rows), pc)
                return True
        return False

    def show_rows(
        self, instructions: list[Instruction], shown_rows: list[Row], pc: int | None
    ) -> None:
        if shown_rows == self.shown_rows and self.row_count == len(shown_rows):
            # the same function again (a stop in a loop): only the PC rows change
            before, self.pc_address = self.pc_address, pc
            self.restyle({before, pc})
        else:
            self.instructions = instructions
            self.shown_rows = shown_rows
            self.pc_address = pc
            self.redraw()
        marked = self.marked_rows()
        if marked:
            self.move_cursor(row=marked[0], scroll=True)

    def clear_pc(self) -> None:
        """The program runs: no line is the PC's (the instructions stay)."""
        if self.pc_address is not None:
            before, self.pc_address = self.pc_address, None
            self.restyle({before})

    def set_breakpoints(self, addresses: Iterable[int]) -> None:
        before, self.breakpoint_addresses = self.breakpoint_addresses, set(addresses)
        self.restyle(before ^ self.breakpoint_addresses)

    def redraw(self) -> None:
        self.clear()
        for index, row in enumerate(self.shown_rows):
            if isinstance(row, SourceRow):
                self.add_row(
                    Text(""),
                    Text(""),
                    Text(row.location, style=SOURCE_STYLE),
                    Text(row.text.strip() if row.text else "", style=f"{SOURCE_STYLE} italic"),
                    key=f"source-{index}",
                )
                continue
            self.add_row(*self.cells(row), key=str(row.address))

    def cells(self, instruction: Instruction) -> tuple[Text, Text, Text, Text]:
        is_pc = instruction.address == self.pc_address
        style = PC_STYLE if is_pc else ""
        mark = PC_MARK if is_pc else ""
        if instruction.address in self.breakpoint_addresses:
            mark = BREAKPOINT_MARK + mark
        return (
            Text(mark, style="bold red" if not is_pc else style),
            Text(f"{instruction.address:#x}", style=style),
            Text(where(instruction), style=style),
            Text(instruction.text, style=style),
        )

    def restyle(self, addresses: Iterable[int | None]) -> None:
        """Draw again the rows of `addresses` whose marks changed (a full redraw of a
        long function at every stop and breakpoint change was most of the pane's cost)."""
        wanted = set(addresses)
        for instruction in self.instructions:
            if instruction.address in wanted:
                key = str(instruction.address)
                for column, cell in zip(self.column_keys, self.cells(instruction), strict=True):
                    self.update_cell(key, column, cell)

    def show_message(self, message: str) -> None:
        """Instead of the instructions (the program runs, gdb's error)."""
        self.instructions = []
        self.shown_rows = []
        self.pc_address = None
        self.clear()
        self.add_row(Text(""), Text(""), Text(""), Text(message, style="italic"))

    def marked_rows(self) -> list[int]:
        """The rows drawn as the PC's (one, or none when the PC is not among them)."""
        return [
            index
            for index, row in enumerate(self.shown_rows)
            if isinstance(row, Instruction) and row.address == self.pc_address
        ]

    def instruction_at_row(self, row: int) -> Instruction | None:
        """The instruction drawn on table row `row` (None on a source row)."""
        if 0 <= row < len(self.shown_rows):
            found = self.shown_rows[row]
            return found if isinstance(found, Instruction) else None
        return None

    def instruction_at_cursor(self) -> Instruction | None:
        return self.instruction_at_row(self.cursor_row)

    def location_at_cursor(self) -> str | None:
        """What the cursor is on, as gdb takes it for run-to-cursor (`until`/`advance`,
        `run_to`): "*0xADDR" on an instruction, "file:line" on a source row, None in
        an empty or message-only pane."""
        if not 0 <= self.cursor_row < len(self.shown_rows):
            return None
        row = self.shown_rows[self.cursor_row]
        if isinstance(row, SourceRow):
            return row.location
        return f"*{row.address:#x}"

    def want_breakpoint(self) -> bool:
        """Ask for a breakpoint at the cursor's instruction (on a source row: at its
        line's first instruction); False when there is none. The screen's `b` calls this
        while the pane has the focus, and answers the BreakpointWanted it posts."""
        if not 0 <= self.cursor_row < len(self.shown_rows):
            return False
        row = self.shown_rows[self.cursor_row]
        instruction = row.first if isinstance(row, SourceRow) else row
        self.post_message(self.BreakpointWanted(instruction.address))
        return True
