"""The selected frame's instructions around its PC, the PC's line marked; a breakpoint
is asked for at the instruction under the cursor (`want_breakpoint`)."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from rich.text import Text
from textual.message import Message
from textual.widgets import DataTable

from cntr_tui.gdb.records import Instruction
from cntr_tui.widgets.navigation import NAVIGATION, TableNavigation

PC_MARK = "▶"
BREAKPOINT_MARK = "●"
PC_STYLE = "bold reverse"


def where(instruction: Instruction) -> str:
    if instruction.function is None:
        return ""
    return f"<{instruction.function}+{instruction.offset or 0}>"


class DisassemblyView(TableNavigation, DataTable[Text]):
    """Rows of `show_instructions`; `pc_address` is the marked line's address."""

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
        self.pc_address: int | None = None
        self.breakpoint_addresses: set[int] = set()

    def on_mount(self) -> None:
        self.add_columns(" ", "address", "where", "instruction")

    def show_instructions(self, instructions: Sequence[Instruction], pc: int | None) -> None:
        self.instructions = list(instructions)
        self.pc_address = pc
        self.redraw()
        rows = [instruction.address for instruction in self.instructions]
        if pc in rows:
            self.move_cursor(row=rows.index(pc), scroll=True)

    def clear_pc(self) -> None:
        """The program runs: no line is the PC's (the instructions stay)."""
        if self.pc_address is not None:
            self.pc_address = None
            self.redraw_keeping_cursor()

    def set_breakpoints(self, addresses: Iterable[int]) -> None:
        self.breakpoint_addresses = set(addresses)
        self.redraw_keeping_cursor()

    def redraw_keeping_cursor(self) -> None:
        if self.instructions:
            row = self.cursor_row
            self.redraw()
            self.move_cursor(row=row)

    def redraw(self) -> None:
        self.clear()
        for instruction in self.instructions:
            is_pc = instruction.address == self.pc_address
            style = PC_STYLE if is_pc else ""
            mark = PC_MARK if is_pc else ""
            if instruction.address in self.breakpoint_addresses:
                mark = BREAKPOINT_MARK + mark
            self.add_row(
                Text(mark, style="bold red" if not is_pc else style),
                Text(f"{instruction.address:#x}", style=style),
                Text(where(instruction), style=style),
                Text(instruction.text, style=style),
                key=str(instruction.address),
            )

    def show_message(self, message: str) -> None:
        """Instead of the instructions (the program runs, gdb's error)."""
        self.instructions = []
        self.pc_address = None
        self.clear()
        self.add_row(Text(""), Text(""), Text(""), Text(message, style="italic"))

    def marked_rows(self) -> list[int]:
        """The rows drawn as the PC's (one, or none when the PC is not among them)."""
        return [
            row
            for row, instruction in enumerate(self.instructions)
            if instruction.address == self.pc_address
        ]

    def instruction_at_cursor(self) -> Instruction | None:
        if 0 <= self.cursor_row < len(self.instructions):
            return self.instructions[self.cursor_row]
        return None

    def want_breakpoint(self) -> bool:
        """Ask for a breakpoint at the cursor's instruction; False when there is none."""
        instruction = self.instruction_at_cursor()
        if instruction is None:
            return False
        self.post_message(self.BreakpointWanted(instruction.address))
        return True
