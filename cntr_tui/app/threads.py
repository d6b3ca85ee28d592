"""Handing a thread worker's result to the UI thread."""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from typing import Any

from textual.app import App
from textual.css.query import NoMatches


def deliver(app: App[Any], callback: Callable[..., object], *args: object) -> None:
    """Run `callback(*args)` on the app's loop. A result that arrives after the app
    exited, or after its screen was closed (its widgets gone), is dropped: a listing or
    a file read that finishes late has no one to show it to."""

    def show() -> None:
        with contextlib.suppress(NoMatches):
            callback(*args)

    if not app.is_running:
        return
    with contextlib.suppress(RuntimeError):  # the loop closed between check and call
        app.call_from_thread(show)
