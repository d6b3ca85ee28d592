"""The Textual App: screens, the one global BINDINGS list, theme, keymap, shell."""

from __future__ import annotations

import asyncio
import os
import select
import signal
import subprocess
import sys
import threading
import tomllib
from pathlib import Path

from textual.app import App
from textual.binding import Binding

from cntr_tui.app.commands import CntrCommands
from cntr_tui.app.listing import PendingBreakpoints
from cntr_tui.app.screens.containers import ContainersScreen, Lister
from cntr_tui.app.screens.error import ErrorDialog
from cntr_tui.attach.container import Container
from cntr_tui.errors import UserError

DARK_THEME = "textual-dark"
HANGUP_EXIT_AFTER = 15.0  # s: DebugConnection's detach and close take 10 at most each
LIGHT_THEME = "textual-light"


def keymap_path() -> Path:
    config = os.environ.get("XDG_CONFIG_HOME") or str(Path.home() / ".config")
    return Path(config) / "cntr-tui" / "keymap.toml"


def load_keymap(path: Path) -> dict[str, str]:
    """`[keymap]` table of binding id -> keys ("debugger.next" = "n,f8"); {} if absent."""
    try:
        with path.open("rb") as file:
            table = tomllib.load(file).get("keymap", {})
    except (OSError, tomllib.TOMLDecodeError):
        return {}
    return {str(key): str(value) for key, value in table.items()}


def shell_command(container: Container) -> list[str]:
    return [
        sys.executable,
        "-m",
        "cntr_tui.cli",
        "attach",
        "-t",
        container.runtime,
        container.id,
    ]


def end_after_hangup() -> None:
    """With no terminal left, the driver may hang on its way out: past the detach's own
    time limits, the process ends (a second hang-up signal starts no second timer)."""
    if any(thread.name == "hangup-exit" for thread in threading.enumerate()):
        return
    timer = threading.Timer(HANGUP_EXIT_AFTER, os._exit, (128 + signal.SIGHUP,))
    timer.name = "hangup-exit"
    timer.daemon = True
    timer.start()


class CntrApp(App[None]):
    TITLE = "cntr-tui"
    SUB_TITLE = "containers"
    COMMANDS = App.COMMANDS | {CntrCommands}

    BINDINGS = [
        Binding("question_mark", "help", "Help", key_display="?", id="app.help"),
        Binding("q", "quit", "Quit", id="app.quit"),
        Binding("ctrl+t", "toggle_theme", "Dark/light", show=False, id="app.theme"),
        Binding("ctrl+p", "command_palette", "Commands", show=False, id="app.palette"),
    ]

    def __init__(
        self,
        focus: Container | None = None,
        theme: str | None = None,
        lister: Lister | None = None,
    ) -> None:
        super().__init__()
        self.focus_container = focus
        self.lister = lister
        self.pending_breakpoints = PendingBreakpoints()
        self.theme = theme or os.environ.get("CNTR_TUI_THEME", DARK_THEME)
        self.quitting: asyncio.Task[None] | None = None
        self.user_keymap: dict[str, str] = {}

    def on_mount(self) -> None:
        self.user_keymap = load_keymap(keymap_path())
        self.set_keymap(self.user_keymap)
        self.push_screen(ContainersScreen(focus=self.focus_container, lister=self.lister))
        if not self.is_headless:
            # SIGHUP: our terminal went away (an SSH connection, a tmux pane): detach as
            # for SIGTERM; gdb and gdbserver are out of its reach (own sessions)
            loop = asyncio.get_running_loop()
            loop.add_signal_handler(signal.SIGTERM, self.on_sigterm)
            loop.add_signal_handler(signal.SIGHUP, self.on_sighup)
            if os.isatty(0):
                threading.Thread(
                    target=self.watch_terminal, args=(loop,), name="hangup", daemon=True
                ).start()

    def on_sigterm(self) -> None:
        if self.quitting is None:
            self.quitting = asyncio.create_task(self.action_quit())

    def on_sighup(self) -> None:
        end_after_hangup()
        self.on_sigterm()

    def watch_terminal(self, loop: asyncio.AbstractEventLoop) -> None:
        """Wait for our terminal to hang up (POLLHUP: its other end closed). A SIGHUP
        need not come with it (a pane whose `sh -c` does not pass it on), and the loop
        that would run our SIGHUP handler was seen stuck with the terminal gone: this
        thread starts the deadline itself."""
        poller = select.poll()
        poller.register(0, 0)  # no events asked: hang-ups and errors are always reported
        events = [revents for _, revents in poller.poll()]
        if any(revents & (select.POLLHUP | select.POLLERR) for revents in events):
            end_after_hangup()
            loop.call_soon_threadsafe(self.on_sigterm)

    async def action_quit(self) -> None:
        """Detach every open debugger (the processes keep running), then exit."""
        for screen in reversed(self.screen_stack):
            close = getattr(screen, "close_session", None)
            if close is not None:
                await close()
        self.exit()

    def action_help(self) -> None:
        from cntr_tui.app.screens.help import HelpScreen

        if not isinstance(self.screen, HelpScreen):
            self.push_screen(HelpScreen(self.screen))

    def action_toggle_theme(self) -> None:
        self.theme = LIGHT_THEME if self.current_theme.dark else DARK_THEME

    def show_error(self, title: str, message: str, fix: str | None = None) -> None:
        self.push_screen(ErrorDialog(title, message, fix))

    def open_shell(self, container: Container) -> None:
        """Suspend the UI, run an attach shell in the terminal, come back when it exits."""
        try:
            with self.suspend():
                print(f"cntr-tui: shell in {container.name}; exit it to return.", flush=True)
                status = run_shell(container)
        except UserError as error:
            self.show_error(f"Cannot open a shell in {container.name}", str(error), None)
            return
        except Exception as error:  # SuspendNotSupported in headless/web drivers
            self.show_error(
                "Cannot open a shell here",
                f"This terminal cannot be handed over to a shell ({type(error).__name__}).",
                f"run `cntr-tui attach -t {container.runtime} {container.id}` in a terminal",
            )
            return
        if status not in (0, 130):
            self.notify(
                f"the shell exited with status {status}", title=container.name, severity="warning"
            )


def run_shell(container: Container) -> int:
    """Blocking, on the real terminal: the attach session's interactive shell."""
    try:
        from cntr_tui.attach.session import AttachSession
    except ImportError:
        return subprocess.run(shell_command(container), check=False).returncode
    with AttachSession(container) as session:
        return session.run_interactive()
