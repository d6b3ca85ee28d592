"""The debugger screen, in parts that build on each other: base (state and panes) ->
breakpoints -> frames (the state after a stop) -> screen (attach, events, execution)."""

from cntr_tui.app.screens.debugger.base import TABBED
from cntr_tui.app.screens.debugger.frames import MEMORY_LENGTH
from cntr_tui.app.screens.debugger.screen import DebuggerScreen

__all__ = ["MEMORY_LENGTH", "TABBED", "DebuggerScreen"]
