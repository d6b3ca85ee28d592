"""The disassembly pane with mixed source (issue 14): a dimmed source row before each
run of instructions of one line, the PC and breakpoint marks on the right rows, `b` on
either kind of row, and `location_at_cursor` for run-to-cursor. The widget is hosted
alone in a tiny App and driven by Pilot."""

from __future__ import annotations

from rich.text import Text
from textual.app import App, ComposeResult
from textual.pilot import Pilot

from cntr_tui.gdb.records import Instruction
from cntr_tui.widgets.disassembly import (
    BREAKPOINT_MARK,
    PC_MARK,
    SOURCE_STYLE,
    DisassemblyView,
    SourceRow,
)
from tests.unit.test_screens import until

START = 0x401136
FULLNAME = "/src/threads.c"
# line 41's two instructions, line 42's three, an instruction without line info, then
# line 41 again (its code after the loop)
LINES = [41, 41, 42, 42, 42, None, 41]
TEXT = {(FULLNAME, 41): "static void tick(struct worker *w) {", (FULLNAME, 42): "    w->n++;"}


def code(lines: list[int | None] = LINES) -> list[Instruction]:
    return [
        Instruction(
            START + 4 * n,
            "tick",
            4 * n,
            f"insn {n}",
            line=line,
            file="threads.c" if line else None,
            fullname=FULLNAME if line else None,
        )
        for n, line in enumerate(lines)
    ]


class Host(App[None]):
    def __init__(self) -> None:
        super().__init__()
        self.view = DisassemblyView()
        self.wanted: list[str] = []

    def compose(self) -> ComposeResult:
        yield self.view

    def on_disassembly_view_breakpoint_wanted(
        self, event: DisassemblyView.BreakpointWanted
    ) -> None:
        self.wanted.append(event.location)

    def on_mount(self) -> None:
        self.view.focus()


def drawn(view: DisassemblyView) -> list[str]:
    """Each row as its cells' text, joined by |."""
    return ["|".join(cell.plain for cell in view.get_row_at(row)) for row in range(view.row_count)]


async def shown(pilot: Pilot[None], view: DisassemblyView) -> None:
    await until(pilot, lambda: view.row_count == len(view.shown_rows), "the rows drawn")


async def test_source_rows_come_before_each_run_of_one_line() -> None:
    app = Host()
    async with app.run_test() as pilot:
        view = app.view
        pc = START + 4 * 3
        view.show_instructions(code(), pc, TEXT)
        await shown(pilot, view)
        assert drawn(view) == [
            "||threads.c:41|static void tick(struct worker *w) {",
            f"|{START:#x}|<tick+0>|insn 0",
            f"|{START + 4:#x}|<tick+4>|insn 1",
            "||threads.c:42|w->n++;",
            f"|{START + 8:#x}|<tick+8>|insn 2",
            f"{PC_MARK}|{pc:#x}|<tick+12>|insn 3",
            f"|{START + 16:#x}|<tick+16>|insn 4",
            f"|{START + 20:#x}|<tick+20>|insn 5",  # no line info: no source row
            "||threads.c:41|static void tick(struct worker *w) {",
            f"|{START + 24:#x}|<tick+24>|insn 6",
        ]
        source_cell: Text = view.get_row_at(3)[3]
        assert SOURCE_STYLE in str(source_cell.style)
        assert view.marked_rows() == [5] and view.cursor_row == 5
        assert view.location_at_cursor() == f"*{pc:#x}"
        instruction = view.instruction_at_row(5)
        assert instruction is not None and instruction.address == pc
        assert view.instruction_at_row(3) is None

        await pilot.press("k", "k")  # onto line 42's source row
        assert isinstance(view.shown_rows[view.cursor_row], SourceRow)
        assert view.location_at_cursor() == "threads.c:42"


async def test_b_on_an_instruction_and_on_a_source_row_and_the_marks_stay_right() -> None:
    app = Host()
    async with app.run_test() as pilot:
        view = app.view
        view.show_instructions(code(), START + 4 * 3, TEXT)
        await shown(pilot, view)
        view.move_cursor(row=6)  # insn 4
        assert view.want_breakpoint()
        view.move_cursor(row=3)  # line 42's source row: its first instruction, insn 2
        assert view.want_breakpoint()
        await until(pilot, lambda: len(app.wanted) == 2, "two breakpoints wanted")
        assert app.wanted == [f"*{START + 16:#x}", f"*{START + 8:#x}"]

        view.set_breakpoints([START + 16, START + 8])
        marks = [view.get_row_at(row)[0].plain for row in range(view.row_count)]
        assert marks == ["", "", "", "", BREAKPOINT_MARK, PC_MARK, BREAKPOINT_MARK, "", "", ""]
        assert view.cursor_row == 3  # a redraw keeps the cursor
        view.clear_pc()
        assert view.marked_rows() == [] and view.get_row_at(5)[0].plain == ""


async def test_a_callable_source_and_lines_without_text() -> None:
    asked: list[tuple[str, int]] = []

    def text_of(name: str, line: int) -> str | None:
        asked.append((name, line))
        return "    w->n++;" if line == 42 else None

    app = Host()
    async with app.run_test() as pilot:
        view = app.view
        view.show_instructions(code(), START, text_of)
        await shown(pilot, view)
        rows = drawn(view)
        assert rows[0] == "||threads.c:41|"  # no text: the location alone
        assert rows[3] == "||threads.c:42|w->n++;"
        # fullname first, then the file as recorded
        assert asked[:2] == [(FULLNAME, 41), ("threads.c", 41)]
        assert view.location_at_cursor() == f"*{START:#x}"


async def test_without_line_info_the_rows_are_the_instructions() -> None:
    app = Host()
    async with app.run_test() as pilot:
        view = app.view
        view.show_instructions(code([None] * 4), START + 8)
        await shown(pilot, view)
        assert view.row_count == 4 and view.shown_rows == view.instructions
        assert view.marked_rows() == [2] and view.cursor_row == 2
        view.show_message("Selected thread is running.")
        assert view.location_at_cursor() is None and not view.want_breakpoint()


async def test_search_finds_a_source_row() -> None:
    app = Host()
    async with app.run_test() as pilot:
        view = app.view
        view.show_instructions(code(), START, TEXT)
        await shown(pilot, view)
        await pilot.press("slash", *"w->n", "enter")
        await until(pilot, lambda: view.cursor_row == 3, "line 42's source row")
        assert view.location_at_cursor() == "threads.c:42"


async def test_a_stop_in_the_same_function_moves_the_marks_without_a_redraw() -> None:
    """A second stop in the function shown, a breakpoint change, a resume: the marks
    move on the rows they concern, the other rows stay the very rows drawn before."""
    app = Host()
    async with app.run_test() as pilot:
        view = app.view
        view.show_instructions(code(), START, TEXT)
        await shown(pilot, view)
        keys = list(view.rows)  # a redraw (clear + add) makes new row keys objects
        marks = lambda: [view.get_row_at(row)[0].plain for row in range(view.row_count)]  # noqa: E731

        view.show_instructions(code(), START + 4 * 3, TEXT)
        await pilot.pause()
        pc_row = view.marked_rows()[0]
        assert view.instruction_at_row(pc_row).address == START + 4 * 3
        assert marks() == [PC_MARK if row == pc_row else "" for row in range(view.row_count)]
        assert view.cursor_row == pc_row

        view.set_breakpoints({START + 4})
        await pilot.pause()
        bp_row = next(
            row
            for row in range(view.row_count)
            if (found := view.instruction_at_row(row)) and found.address == START + 4
        )
        assert marks()[bp_row] == BREAKPOINT_MARK and marks()[pc_row] == PC_MARK

        view.clear_pc()
        view.set_breakpoints(set())
        await pilot.pause()
        assert marks() == [""] * view.row_count and view.marked_rows() == []
        assert all(a is b for a, b in zip(keys, view.rows, strict=True))

        view.show_instructions(code([41, 42]), START, TEXT)  # another function: redrawn
        await shown(pilot, view)
        assert view.row_count == 4 and view.marked_rows() == [1]
