"""`?`: every binding of the app and of each screen (from app/bindings.py), with the id
to remap it by."""

from __future__ import annotations

from typing import ClassVar

from textual.app import ComposeResult
from textual.binding import BindingType
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import DataTable, Static

from cntr_tui.app import bindings

REMAP_HINT = (
    "Remap any key by its id in ~/.config/cntr-tui/keymap.toml, e.g.\n"
    '[keymap]\n"debugger.next" = "n,f8"'
)


class HelpScreen(ModalScreen[None]):
    DEFAULT_CSS = """
    HelpScreen { align: center middle; }
    HelpScreen > Vertical {
        width: 90%; height: 90%; border: thick $primary; background: $surface;
    }
    HelpScreen DataTable { height: 1fr; }
    HelpScreen #help-hint { height: auto; color: $text-muted; padding: 0 1; }
    """
    BINDINGS: ClassVar[list[BindingType]] = [*bindings.HELP]

    def __init__(self, under: str, keymap: dict[str, str]) -> None:
        """`under`: the title of the screen help was asked on, as its header shows it
        ("debugger · web"); `keymap`: the user's."""
        super().__init__()
        self.under = under
        self.keymap = keymap

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Static(f"Keys ({self.under})", id="help-title")
            yield DataTable(id="help-table", cursor_type="row")
            yield Static(REMAP_HINT, id="help-hint", markup=False)

    def on_mount(self) -> None:
        table = self.query_one(DataTable)
        table.add_columns("where", "keys", "what", "id")
        for group, listed in bindings.binding_groups():
            for binding in listed:
                keys = self.keymap.get(binding.id or "", binding.key)
                shown = binding.key_display or keys
                table.add_row(group, shown, binding.description or binding.action, binding.id)
        table.focus()
