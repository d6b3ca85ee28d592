"""`cntr-tui ui [-t TYPES] [--debugger] [CONTAINER]`: the terminal UI with CONTAINER
selected in the list (the command `kubectl cntr` runs in its node debug pod), and with
`--debugger` the debugger opened on it at once.

CONTAINER is resolved as `gdb` resolves it (attach/lookup.py), before the UI starts:
a word that names no container (or several) is the lookup's one-line error.
"""

from __future__ import annotations

from collections.abc import Sequence

from cntr_tui.errors import UserError


def run_ui(word: str | None, types: Sequence[str] | None, debugger: bool = False) -> int:
    if word is None:
        if debugger:
            raise UserError("--debugger opens the debugger on a CONTAINER: name one")
        from cntr_tui.app.main import run_app

        return run_app()
    from cntr_tui.attach.lookup import resolve

    container = resolve(word, types)
    from cntr_tui.app.app import CntrApp
    from cntr_tui.settings import Settings

    # run_app's, with the debugger wish (run_app puts back a caller's SIGTERM handler
    # after the app: this command has none of its own)
    app = CntrApp(focus=container, settings=Settings.from_environment(), debug_at_start=debugger)
    app.run()
    return app.return_code or 0
