"""The selected frame's general-purpose registers and flags; the ones whose value changed
since the previous stop are highlighted. `v` adds the floating-point and vector
registers (st0-7, xmm/ymm/zmm, k0-7 on x86-64: ~65 KB of MI, so only on demand) and
takes them away again."""

from __future__ import annotations

from collections.abc import Sequence

from rich.text import Text
from textual.binding import Binding
from textual.message import Message
from textual.widgets import DataTable

from cntr_tui.gdb.records import Register
from cntr_tui.widgets.navigation import NAVIGATION, TableNavigation

# gdb's names of the general-purpose registers and flags (x86-64, i386, AArch64); on
# another architecture, where none of these is found, every register is shown
GENERAL = frozenset(
    (
        *("rax", "rbx", "rcx", "rdx", "rsi", "rdi", "rbp", "rsp"),
        *(f"r{n}" for n in range(8, 16)),
        *("rip", "eflags", "cs", "ss", "ds", "es", "fs", "gs", "fs_base", "gs_base"),
        *("eax", "ebx", "ecx", "edx", "esi", "edi", "ebp", "esp", "eip"),
        *(f"x{n}" for n in range(31)),
        *("sp", "pc", "cpsr", "fpsr", "fpcr"),
    )
)
CHANGED_STYLE = "bold reverse"

# in the registers pane; bindings.py lists them for help
REGISTERS = [
    Binding("v", "toggle_vector", "Vector registers", id="registers.vector"),
]


def general(registers: Sequence[Register]) -> list[Register]:
    """The general-purpose registers and flags in gdb's order, else all of them."""
    chosen = [register for register in registers if register.name in GENERAL]
    return sorted(chosen or registers, key=lambda register: register.number)


class RegistersTable(TableNavigation, DataTable[Text]):
    """Rows of `show_registers`. `changed`: the names whose value differs from the one
    at the previous stop (drawn in CHANGED_STYLE)."""

    BINDINGS = [*REGISTERS, *NAVIGATION]

    class VectorToggled(Message):
        """`v`: the screen asks the registers again, with `vector` (every one) or not."""

        def __init__(self, vector: bool) -> None:
            super().__init__()
            self.vector = vector

    def __init__(self, **kwargs: object) -> None:
        super().__init__(cursor_type="row", **kwargs)  # type: ignore[arg-type]
        self.vector = False  # the floating-point and vector registers shown too
        self.values: dict[str, str] = {}  # shown now
        self.previous: dict[str, str] = {}  # at the stop before
        self.changed: set[str] = set()
        self.stop: int | None = None

    def on_mount(self) -> None:
        self.add_columns("register", "value")

    def show_registers(self, registers: Sequence[Register], stop: int) -> None:
        """`stop` counts the program's stops: at a new one, the values shown until now
        become the ones compared with; another frame of the same stop is compared with
        the same previous stop's values."""
        if stop != self.stop:
            self.previous, self.stop = self.values, stop
        if self.vector:
            shown = sorted(registers, key=lambda register: register.number)
        else:
            shown = general(registers)
        self.values = {register.name: register.value for register in shown}
        self.changed = {
            name
            for name, value in self.values.items()
            if name in self.previous and self.previous[name] != value
        }
        self.clear()
        for register in shown:
            style = CHANGED_STYLE if register.name in self.changed else ""
            self.add_row(
                Text(register.name, style=style),
                Text(register.value, style=style),
                key=register.name,
            )

    def show_message(self, message: str) -> None:
        """Instead of the registers (the program runs, gdb's error)."""
        self.clear()
        self.add_row(Text(""), Text(message, style="italic"))

    def action_toggle_vector(self) -> None:
        self.vector = not self.vector
        self.post_message(self.VectorToggled(self.vector))

    def value_of(self, name: str) -> str | None:
        return self.values.get(name)
