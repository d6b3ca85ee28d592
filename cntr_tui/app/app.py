"""The Textual App: screens, the one global BINDINGS list, theme, keymap, shell."""

from __future__ import annotations

import asyncio
import os
import select
import signal
import threading
import tomllib
from typing import TYPE_CHECKING, ClassVar

from textual import on
from textual.app import App
from textual.binding import BindingType

from cntr_tui.app import bindings
from cntr_tui.app.listing import PendingBreakpoints
from cntr_tui.app.messages import (
    BreakpointWanted,
    CoresWanted,
    CoreWanted,
    DebugWanted,
    FilesWanted,
    ShellWanted,
    SnapshotWanted,
)
from cntr_tui.app.palette import CntrCommands
from cntr_tui.app.screens.containers import ContainersScreen, Lister
from cntr_tui.app.screens.error import ErrorDialog
from cntr_tui.attach.container import Container
from cntr_tui.errors import UserError
from cntr_tui.settings import DARK_THEME, LIGHT_THEME, Settings

if TYPE_CHECKING:
    from cntr_tui.app.screens.debugger import DebuggerScreen
    from cntr_tui.debug.core_shelf import CoreShelf
    from cntr_tui.debug.protocol import DebugOpener, SnapshotTaker

HANGUP_EXIT_AFTER = 15.0  # s: a debug session's detach and close take 10 at most each


def load_keymap(path: str) -> dict[str, str]:
    """`[keymap]` table of binding id -> keys ("debugger.next" = "n,f8"); {} if absent."""
    try:
        with open(os.path.expanduser(path), "rb") as file:
            table = tomllib.load(file).get("keymap", {})
    except (OSError, tomllib.TOMLDecodeError):
        return {}
    return {str(key): str(value) for key, value in table.items()}


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

    BINDINGS: ClassVar[list[BindingType]] = [*bindings.APP]

    def __init__(
        self,
        focus: Container | None = None,
        theme: str | None = None,
        lister: Lister | None = None,
        opener: DebugOpener | None = None,
        settings: Settings | None = None,
        snapshotter: SnapshotTaker | None = None,
        debug_at_start: bool = False,
        core_shelf: CoreShelf | None = None,
    ) -> None:
        """`lister`: fixed listings instead of the live runtimes; `opener`: debug
        sessions from elsewhere than the debug service (a fake engine in tests);
        `snapshotter`, `core_shelf`: likewise for snapshots and cores; `debug_at_start`:
        open the debugger on `focus` once the app runs (`cntr-tui ui --debugger`)."""
        super().__init__()
        self.settings = settings or Settings.from_environment()
        self.focus_container = focus
        self.lister = lister
        self.opener = opener
        self.snapshotter = snapshotter
        self.core_shelf = core_shelf
        self.debug_at_start = debug_at_start
        self.pending_breakpoints = PendingBreakpoints()
        self.theme = theme or self.settings.theme
        self.quitting: asyncio.Task[None] | None = None
        self.hung_up = False  # our terminal is gone
        self.user_keymap: dict[str, str] = {}

    def on_mount(self) -> None:
        self.user_keymap = load_keymap(self.settings.keymap_file)
        self.set_keymap(self.user_keymap)
        self.push_screen(ContainersScreen(focus=self.focus_container, lister=self.lister))
        if self.debug_at_start and self.focus_container is not None:
            self.post_message(DebugWanted(self.focus_container))
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
        self.hang_up()

    def hang_up(self) -> None:
        self.hung_up = True
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
            loop.call_soon_threadsafe(self.hang_up)

    async def action_quit(self) -> None:
        """Detach every open debugger (the processes keep running), then exit."""
        for screen in reversed(self.debuggers()):
            await screen.close_session()
        if self.hung_up:
            # every session is detached and closed; with no terminal to restore, the
            # driver's own exit was seen to hang until end_after_hangup's deadline
            os._exit(128 + signal.SIGHUP)
        self.exit()

    def debuggers(self) -> list[DebuggerScreen]:
        from cntr_tui.app.screens.debugger import DebuggerScreen

        return [screen for screen in self.screen_stack if isinstance(screen, DebuggerScreen)]

    def action_help(self) -> None:
        from cntr_tui.app.screens.help import HelpScreen

        if not isinstance(self.screen, HelpScreen):
            self.push_screen(HelpScreen(self.screen.sub_title or self.sub_title, self.user_keymap))

    # --- what the screens ask for ------------------------------------------------

    @on(DebugWanted)
    def open_debugger(self, wanted: DebugWanted) -> None:
        from cntr_tui.app.opener import service_opener
        from cntr_tui.app.screens.debugger import DebuggerScreen

        opener = self.opener or service_opener(self.settings)
        self.push_screen(
            DebuggerScreen(wanted.container, wanted.host_pid, opener, self.pending_breakpoints)
        )

    @on(SnapshotWanted)
    def take_snapshot(self, wanted: SnapshotWanted) -> None:
        from cntr_tui.app.opener import service_snapshotter
        from cntr_tui.app.screens.snapshot import SnapshotScreen

        self.push_screen(
            SnapshotScreen(wanted.container, self.snapshotter or service_snapshotter())
        )

    @on(CoresWanted)
    def show_cores(self, wanted: CoresWanted) -> None:
        from cntr_tui.app.opener import service_core_shelf
        from cntr_tui.app.screens.cores import CoresScreen

        self.core_shelf = self.core_shelf or service_core_shelf()
        self.push_screen(CoresScreen(wanted.container, self.core_shelf))

    @on(CoreWanted)
    def show_core(self, wanted: CoreWanted) -> None:
        from cntr_tui.app.opener import service_core_shelf
        from cntr_tui.app.screens.snapshot import CoreScreen

        self.core_shelf = self.core_shelf or service_core_shelf()
        self.push_screen(CoreScreen(wanted.core, wanted.container, self.core_shelf))

    @on(FilesWanted)
    def open_files(self, wanted: FilesWanted) -> None:
        from cntr_tui.app.screens.files import FilesScreen

        self.push_screen(FilesScreen(wanted.container))

    @on(BreakpointWanted)
    def breakpoint_wanted(self, wanted: BreakpointWanted) -> None:
        """To the container's attached debugger, else noted for when it attaches."""
        key = wanted.container.key
        for debugger in self.debuggers():
            if debugger.container.key == key and debugger.attached:
                debugger.add_breakpoint(wanted.location)
                self.notify(f"breakpoint at {wanted.location}", title="Debugger")
                return
        self.pending_breakpoints.add(wanted.container, wanted.location)
        self.notify(
            f"{wanted.location} is set when the debugger attaches (g on the container).",
            title="Breakpoint noted",
        )

    @on(ShellWanted)
    def shell_wanted(self, wanted: ShellWanted) -> None:
        self.open_shell(wanted.container)

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
    from cntr_tui.attach.session import AttachSession

    with AttachSession(container) as session:
        return session.run_interactive()
