"""A readable error: what failed, why, and how to fix it. Never a traceback."""

from __future__ import annotations

from typing import ClassVar

from textual.app import ComposeResult
from textual.binding import BindingType
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Static

from cntr_tui.app import bindings


class ErrorDialog(ModalScreen[None]):
    DEFAULT_CSS = """
    ErrorDialog { align: center middle; }
    ErrorDialog > Vertical {
        width: 80%; max-width: 100; height: auto; border: thick $error;
        background: $surface; padding: 1 2;
    }
    ErrorDialog #error-title { text-style: bold; color: $error; }
    ErrorDialog #error-fix { margin-top: 1; color: $success; }
    ErrorDialog Button { margin-top: 1; }
    """
    BINDINGS: ClassVar[list[BindingType]] = [*bindings.ERROR]

    def __init__(self, title: str, message: str, fix: str | None = None) -> None:
        super().__init__()
        self.error_title = title
        self.message = message
        self.fix = fix

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Static(self.error_title, id="error-title", markup=False)
            yield Static(self.message, id="error-message", markup=False)
            if self.fix:
                yield Static(f"Fix: {self.fix}", id="error-fix", markup=False)
            yield Button("Close", variant="error", id="error-close")

    def on_button_pressed(self) -> None:
        self.dismiss()
