"""What gdb is told before it attaches: its command line and settings (sysroot, debug
folders, the index cache). Light on imports: `cntr-tui gdb` builds gdb's command line
before gdb starts, on the path every millisecond of which the user waits for.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass

from cntr_tui.gdb.placement import HOST_DEBUG_DIR, Placement
from cntr_tui.gdb.printers import printer_arguments
from cntr_tui.settings import GDB_INDEX_CACHE_DEFAULT, Settings


def debug_directories(placement: Placement) -> list[str]:
    """Debug folders as gdb names them: the host's first, then the container's."""
    folders = [placement.host_root.rstrip("/") + HOST_DEBUG_DIR]
    if placement.container_root:
        folders.append(placement.container_path(HOST_DEBUG_DIR))
    return folders


# gdb's index cache: the symbol index of each object (by build-id), written the first
# time gdb reads it and reused afterwards, saves about a third of a warm attach. A host
# folder (gdb inside a session sees the host at `/`): never the container's root.
INDEX_CACHE_DIR = GDB_INDEX_CACHE_DEFAULT
INDEX_CACHE_VARIABLE = "CNTR_TUI_GDB_INDEX_CACHE"  # Settings.gdb_index_cache: a folder, or "off"


def index_cache_directory(placement: Placement, folder: str = INDEX_CACHE_DIR) -> str | None:
    """The index cache folder `folder` (Settings.gdb_index_cache) as gdb names it, created
    (0700) if missing; None when it is turned off ("off") or cannot be created."""
    if folder == "off" or not folder.startswith("/"):
        return None
    try:
        os.makedirs(folder, mode=0o700, exist_ok=True)
    except OSError:
        return None
    return placement.host_root.rstrip("/") + folder


FOLLOW_FORK_MODES = ("parent", "child")


@dataclass(frozen=True)
class ForkOptions:
    """What gdb does at a fork of the process it debugs: `follow` (gdb's
    follow-fork-mode) is the process it goes on debugging, "parent" or "child";
    `detach` (detach-on-fork) whether it lets the other one go (off: it keeps it too,
    held stopped, as a second inferior). gdb's defaults: parent, on."""

    follow: str = "parent"
    detach: bool = True

    def __post_init__(self) -> None:
        if self.follow not in FOLLOW_FORK_MODES:
            raise ValueError(f"follow-fork-mode is parent or child, not {self.follow!r}")

    def pairs(self) -> list[tuple[str, str]]:
        """gdb's settings for these options; none for gdb's defaults."""
        if self == ForkOptions():
            return []
        return [("follow-fork-mode", self.follow), ("detach-on-fork", on_off(self.detach))]

    def toggled(self) -> ForkOptions:
        """The other follow-fork-mode (the TUI's key)."""
        return ForkOptions("child" if self.follow == "parent" else "parent", self.detach)


def on_off(value: bool) -> str:
    return "on" if value else "off"


def gdb_settings(
    placement: Placement,
    non_stop: bool = False,
    settings: Settings | None = None,
    forks: ForkOptions | None = None,
) -> list[tuple[str, str]]:
    """(variable, value) pairs for `set` (CLI) or `-gdb-set` (MI), before attaching.
    `settings`: those read where this process started (None: the environment's now);
    `forks`: what gdb does at the program's forks (None: gdb's defaults)."""
    settings = settings or Settings.from_environment()
    pairs = [
        ("pagination", "off"),
        ("confirm", "off"),
        ("width", "0"),
        ("height", "0"),
        ("print symbol-loading", "off"),
        # we load the executable from the sysroot ourselves; the check would read the
        # target's copy over the remote protocol
        ("exec-file-mismatch", "off"),
        # with several processes (a fork kept, a second one attached): continue resumes
        # them all and a stop stops them all, as with one (off, gdb resumed only the
        # current one and, through gdbserver, part of the other's threads too)
        ("schedule-multiple", "on"),
        ("debug-file-directory", ":".join(debug_directories(placement))),
    ]
    if placement.container_root:
        pairs.append(("sysroot", placement.container_root))
    index_cache = index_cache_directory(placement, settings.gdb_index_cache)
    if index_cache is not None:
        pairs += [("index-cache directory", index_cache), ("index-cache enabled", "on")]
    if non_stop:
        pairs.append(("non-stop", "on"))
    if forks is not None:
        pairs += forks.pairs()
    return pairs


GDB_ARGS = ("gdb", "--interpreter=mi3", "--nx", "--quiet")

# gdbserver's detach hands each thread the signal of a stop gdb has not been told of
# yet, if gdb passes that signal (get_detach_signal, QProgramSignals): an attach's
# SIGSTOP still pending on one thread, when another thread's stop (a Go thread's SIGURG)
# was the one reported, reached the program at `D`, which then stopped itself with no
# tracer (test_go_goroutines under load: 3 of 40 runs; PTRACE_DETACH with data 19 in
# the kernel's trace). gdb never passes a SIGSTOP on: a stop is not the program's
# signal to take. A program stopped before the attach is still left stopped (tried by
# hand with gdbserver 13.1: a SIGSTOPped sleep is in state T after attach and detach).
SIGNAL_COMMANDS = ("handle SIGSTOP nopass",)

# gdb runs its bridge to gdbserver (and `shell`) with $SHELL, which a session takes from
# the container's environment: a shell the host, whose tools gdb sees at /, may lack
GDB_ENVIRONMENT = {"SHELL": "/bin/sh"}


def gdb_command_line(
    placement: Placement,
    non_stop: bool = False,
    gdb_args: Sequence[str] = (),
    settings: Settings | None = None,
) -> list[str]:
    """gdb's MI command line with the symbol setup as `-iex` commands: they run before
    anything else, with no round trips, and are in force before our first command."""
    pairs = [("mi-async", "on"), *gdb_settings(placement, non_stop, settings)]
    setup = [arg for name, value in pairs for arg in ("-iex", f"set {name} {value}")]
    setup += [arg for command in SIGNAL_COMMANDS for arg in ("-iex", command)]
    setup += printer_arguments(placement)  # the host's libstdc++ and Rust pretty printers
    return [*GDB_ARGS, *setup, *gdb_args]
