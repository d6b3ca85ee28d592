"""The Textual App (placeholder until the screens land)."""

from __future__ import annotations

from textual.app import App, ComposeResult
from textual.widgets import Footer, Header, Static

from cntr_tui.attach.container import Container


class CntrApp(App[None]):
    TITLE = "cntr-tui"

    def __init__(self, focus: Container | None = None) -> None:
        super().__init__()
        self.focus_container = focus

    def compose(self) -> ComposeResult:
        yield Header()
        yield Static("cntr-tui: the container list is being built.")
        yield Footer()
