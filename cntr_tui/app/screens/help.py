"""`?`: every binding of the app and of each screen, with the id to remap it by."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.screen import ModalScreen, Screen
from textual.widgets import DataTable, Static

REMAP_HINT = (
    "Remap any key by its id in ~/.config/cntr-tui/keymap.toml, e.g.\n"
    '[keymap]\n"debugger.next" = "n,f8"'
)


def bindings_of(owner: type) -> list[Binding]:
    found: list[Binding] = []
    for item in getattr(owner, "BINDINGS", []):
        if isinstance(item, Binding):
            found.append(item)
    return found


def binding_groups() -> list[tuple[str, list[Binding]]]:
    from cntr_tui.app.app import CntrApp
    from cntr_tui.app.screens.containers import ContainersScreen
    from cntr_tui.app.screens.debugger import DebuggerScreen
    from cntr_tui.app.screens.files import FilesScreen

    return [
        ("everywhere", bindings_of(CntrApp)),
        ("containers", bindings_of(ContainersScreen)),
        ("debugger", bindings_of(DebuggerScreen)),
        ("files", bindings_of(FilesScreen)),
    ]


class HelpScreen(ModalScreen[None]):
    DEFAULT_CSS = """
    HelpScreen { align: center middle; }
    HelpScreen > Vertical {
        width: 90%; height: 90%; border: thick $primary; background: $surface;
    }
    HelpScreen DataTable { height: 1fr; }
    HelpScreen #help-hint { height: auto; color: $text-muted; padding: 0 1; }
    """
    BINDINGS: list[BindingType] = [
        Binding("escape,question_mark,q", "dismiss", "Close help", id="help.close"),
    ]

    def __init__(self, under: Screen[object]) -> None:
        super().__init__()
        self.under = under

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Static(f"Keys ({type(self.under).__name__})", id="help-title")
            yield DataTable(id="help-table", cursor_type="row")
            yield Static(REMAP_HINT, id="help-hint", markup=False)

    def on_mount(self) -> None:
        table = self.query_one(DataTable)
        table.add_columns("where", "keys", "what", "id")
        keymap: dict[str, str] = getattr(self.app, "user_keymap", {})
        for group, bindings in binding_groups():
            for binding in bindings:
                keys = keymap.get(binding.id or "", binding.key)
                shown = binding.key_display or keys
                table.add_row(group, shown, binding.description or binding.action, binding.id)
        table.focus()
