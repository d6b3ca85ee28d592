"""Every key binding of the app and its screens, each with the id a keymap remaps it by.

The screens take their BINDINGS from here and the help screen lists them from here, so
the help needs no screen's import (and a binding shown in help is the one in force).
"""

from __future__ import annotations

from textual.binding import Binding

from cntr_tui.widgets.breakpoints import BREAKPOINTS
from cntr_tui.widgets.memory import MEMORY
from cntr_tui.widgets.navigation import NAVIGATION, SEARCH_BAR
from cntr_tui.widgets.registers import REGISTERS
from cntr_tui.widgets.source_view import SOURCE
from cntr_tui.widgets.threads import THREADS
from cntr_tui.widgets.watch import WATCH

APP = [
    Binding("question_mark", "help", "Help", key_display="?", id="app.help"),
    Binding("q", "quit", "Quit", id="app.quit"),
    Binding("ctrl+t", "toggle_theme", "Dark/light", show=False, id="app.theme"),
    Binding("ctrl+p", "command_palette", "Commands", show=False, id="app.palette"),
]

CONTAINERS = [
    Binding("j", "cursor_down", "Down", show=False, id="containers.down"),
    Binding("k", "cursor_up", "Up", show=False, id="containers.up"),
    Binding("g,enter", "debug", "Debug", id="containers.debug"),
    # into the details' process tree: j/k pick a process, enter debugs it
    Binding("p", "processes", "Processes", show=False, id="containers.processes"),
    Binding("s", "shell", "Shell", id="containers.shell"),
    Binding("S", "snapshot", "Snapshot", id="containers.snapshot"),
    Binding("C", "cores", "Cores", show=False, id="containers.cores"),
    Binding("f", "files", "Files", id="containers.files"),
    Binding("slash", "filter", "Filter", key_display="/", id="containers.filter"),
    Binding("o", "sort", "Sort", id="containers.sort"),
    Binding("r", "refresh", "Refresh", id="containers.refresh"),
    Binding("escape", "clear_filter", "Clear filter", show=False, id="containers.clear"),
]

DEBUGGER = [
    Binding("c,f5", "continue", "Continue", id="debugger.continue"),
    Binding("n,f10", "next", "Next", id="debugger.next"),
    Binding("s,f11", "step", "Step", id="debugger.step"),
    Binding("f,shift+f11", "finish", "Finish", id="debugger.finish"),
    # at the source line under the cursor, or at the instruction in the disassembly pane
    Binding("b,f9", "toggle_breakpoint", "Breakpoint", id="debugger.breakpoint"),
    Binding("i,ctrl+c", "interrupt", "Interrupt", id="debugger.interrupt"),
    # non-stop mode: c, i, n, s, f act on the selected thread; these on every thread
    Binding("A", "continue_all", "Continue all threads", show=False, id="debugger.continue_all"),
    Binding("H", "interrupt_all", "Interrupt all threads", show=False, id="debugger.interrupt_all"),
    # detach and attach again in gdb's non-stop mode (or back to all-stop)
    Binding("M", "toggle_non_stop", "Non-stop mode", show=False, id="debugger.non_stop"),
    Binding("alt+s", "step_instruction", "Step instruction", show=False, id="debugger.stepi"),
    Binding("alt+n", "next_instruction", "Next instruction", show=False, id="debugger.nexti"),
    # at the source cursor's line, or at the disassembly cursor's instruction
    Binding("r,ctrl+f10", "run_to_cursor", "Run to cursor", show=False, id="debugger.run_to"),
    # after a stop in another thread than the one stepped
    Binding(
        "t",
        "back_to_stepped",
        "Back to the stepped thread",
        show=False,
        id="debugger.back_to_stepped",
    ),
    # gdb's scheduler-locking step on/off: a step runs only the stepped thread
    Binding(
        "T",
        "toggle_scheduler_locking",
        "Step the thread alone",
        show=False,
        id="debugger.scheduler_locking",
    ),
    Binding(
        "B",
        "new_breakpoint('breakpoint')",
        "New breakpoint",
        show=False,
        id="debugger.new_breakpoint",
    ),
    # of the selected local when the locals pane has the focus
    Binding(
        "W",
        "new_breakpoint('watchpoint')",
        "New watchpoint",
        show=False,
        id="debugger.new_watchpoint",
    ),
    Binding(
        "L", "new_breakpoint('logpoint')", "New logpoint", show=False, id="debugger.new_logpoint"
    ),
    Binding(
        "K",
        "new_breakpoint('catchpoint')",
        "New catchpoint",
        show=False,
        id="debugger.new_catchpoint",
    ),
    # gdb's follow-fork-mode: at the next fork, debug the child (or the parent again)
    Binding(
        "alt+f",
        "toggle_follow_fork",
        "Follow fork: parent/child",
        show=False,
        id="debugger.follow_fork",
    ),
    # with several processes under gdb (its inferiors): the next one becomes current
    Binding("alt+p", "switch_process", "Next process", show=False, id="debugger.process"),
    Binding("u", "frame(1)", "Up", id="debugger.up"),
    Binding("d", "frame(-1)", "Down", id="debugger.down"),
    Binding("colon", "console", "Console", key_display=":", id="debugger.console"),
    Binding("o", "files", "Files", id="debugger.files"),
    Binding("y", "symbols", "Symbols", show=False, id="debugger.symbols"),
    Binding("1", "pane('source')", "Source", show=False, id="debugger.pane1"),
    Binding("2", "pane('threads')", "Threads", show=False, id="debugger.pane2"),
    Binding("3", "pane('locals')", "Locals", show=False, id="debugger.pane3"),
    Binding("4", "pane('console')", "Console pane", show=False, id="debugger.pane4"),
    Binding("5", "pane('mounts')", "Mounts", show=False, id="debugger.pane5"),
    Binding("6", "pane('breakpoints')", "Breakpoints", show=False, id="debugger.pane6"),
    Binding("7", "pane('registers')", "Registers", show=False, id="debugger.pane7"),
    Binding("8", "pane('disassembly')", "Disassembly", show=False, id="debugger.pane8"),
    Binding("9", "pane('memory')", "Memory", show=False, id="debugger.pane9"),
    Binding("0", "pane('watch')", "Watch", show=False, id="debugger.pane0"),
    Binding("l", "pane('logs')", "Logs", show=False, id="debugger.logs"),
    Binding("escape", "back", "Detach", id="debugger.back"),
]

FILES = [
    Binding("b,f9", "breakpoint", "Breakpoint at cursor", id="files.breakpoint"),
    Binding("tab", "switch_pane", "Tree/file", show=False, id="files.switch"),
    Binding("escape", "back", "Back", id="files.back"),
]

HELP = [
    Binding("escape,question_mark,q", "dismiss", "Close help", id="help.close"),
]

FORM = [
    Binding("ctrl+s", "submit", "Set it", id="form.submit"),
    Binding("escape", "cancel", "Cancel", id="form.cancel"),
]

ERROR = [
    Binding("escape,enter", "dismiss", "Close", id="error.close"),
]

SNAPSHOT = [
    Binding("escape,q", "close", "Back", id="snapshot.close"),
    Binding("r", "again", "Take again", id="snapshot.again"),
]

CORES = [
    Binding("enter", "open", "Open", id="cores.open"),
    Binding("r", "refresh", "Refresh", id="cores.refresh"),
    Binding("escape,q", "close", "Back", id="cores.close"),
]


def binding_groups() -> list[tuple[str, list[Binding]]]:
    """What the help screen lists: where a binding works, and the bindings."""
    return [
        ("everywhere", APP),
        ("containers", CONTAINERS),
        ("debugger", DEBUGGER),
        ("files", FILES),
        ("snapshot", SNAPSHOT),
        ("cores", CORES),
        ("every pane", NAVIGATION),
        ("search bar", SEARCH_BAR),
        ("source pane", SOURCE),
        ("threads pane", THREADS),
        ("breakpoints pane", BREAKPOINTS),
        ("breakpoint form", FORM),
        ("registers pane", REGISTERS),
        ("memory pane", MEMORY),
        ("watch pane", WATCH),
    ]
