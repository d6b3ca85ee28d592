"""Entry point of the terminal UI: `cntr-tui` (no subcommand) and `cntr-tui demo`."""

from __future__ import annotations

import signal

from cntr_tui.attach.container import Container


def run_app(focus: Container | None = None) -> int:
    """Run the app until the user quits; `focus` preselects that container in the list.

    Returns the process exit status. The terminal is restored on any exit (Textual's
    driver does it on exceptions; SIGTERM is turned into an orderly exit).
    """
    from cntr_tui.app.app import CntrApp
    from cntr_tui.settings import Settings

    app = CntrApp(focus=focus, settings=Settings.from_environment())
    # The app handles SIGTERM through its event loop, and asyncio resets the handler to
    # the default when the loop closes: put the caller's back (the demo's cleanup).
    previous = signal.getsignal(signal.SIGTERM)
    try:
        app.run()
    finally:
        signal.signal(signal.SIGTERM, previous)
    return app.return_code or 0
