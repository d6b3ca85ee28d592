"""Every setting cntr-tui reads from its environment, with its name and default, in one
record read once where a process starts (the CLI, the TUI, each helper process) and
passed down from there. Cheap to import (os only, no pathlib): the look-up reads it.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass

DARK_THEME = "textual-dark"
LIGHT_THEME = "textual-light"
GDB_INDEX_CACHE_DEFAULT = "/var/cache/cntr-tui/gdb-index"
DOCKER_HOST_DEFAULT = "unix:///var/run/docker.sock"
LXD_DIR_DEFAULT = "/var/lib/lxd"
STATE_DIR_DEFAULT = "/var/lib/cntr-tui"
FS_SPIN_DEFAULT = 50e-6  # seconds the file server polls in a burst (fs/spin_wait.py)


@dataclass(frozen=True)
class Variable:
    """One environment variable we read: its name, its default and what it does."""

    name: str
    default: str
    meaning: str


VARIABLES = (
    Variable("CNTR_TUI_THEME", DARK_THEME, "the TUI's theme (ctrl+t switches dark/light)"),
    Variable(
        "XDG_CONFIG_HOME",
        "~/.config",
        "holds cntr-tui/keymap.toml: a [keymap] table of binding id -> keys",
    ),
    Variable("DOCKER_HOST", DOCKER_HOST_DEFAULT, "the docker daemon to list containers from"),
    Variable(
        "CNTR_TUI_GDB_INDEX_CACHE",
        GDB_INDEX_CACHE_DEFAULT,
        "gdb's index cache folder, or `off`",
    ),
    Variable(
        "CNTR_TUI_HOST_ROOT",
        "/",
        "where the node's root is when cntr-tui runs in a container on it (the node"
        " image: /host); runtime sockets are looked for under it",
    ),
    Variable("LXD_DIR", LXD_DIR_DEFAULT, "LXD's folder, holding its unix.socket"),
    Variable(
        "CNTR_TUI_STATE_DIR",
        STATE_DIR_DEFAULT,
        "what the TUI keeps across sessions: watches/, the watch pane's expressions per image",
    ),
    Variable("CNTR_TUI_GDB_TRACE", "", "a file every byte to and from gdb is appended to"),
    Variable(
        "CNTR_TUI_GUARD_TRACE",
        "",
        "a file each trap guard appends its outcome to (what its detach or rescue did)",
    ),
    Variable("CNTR_TUI_FS_PROFILE", "", "a file the file server writes a cProfile to"),
    Variable("CNTR_TUI_FS_COUNTS", "", "a file the file server writes its request counts to"),
    Variable(
        "CNTR_TUI_FS_PASSTHROUGH",
        "on",
        "`off`: the file server's FUSE mode keeps the writeback cache, not FUSE passthrough",
    ),
    Variable(
        "CNTR_TUI_FS_SPIN_US",
        "50",
        "microseconds the file server polls for the next FUSE request during a burst"
        " before it sleeps (fs/spin_wait.py); 0: it sleeps at once",
    ),
    Variable(
        "CNTR_TUI_AGENT",
        "on",
        "`off`: no resident agent (`cntr-tui agent`); another word: an agent of that name",
    ),
    Variable("CNTR_TUI_AGENT_IDLE", "300", "seconds the resident agent waits unused, then exits"),
)


@dataclass(frozen=True)
class Settings:
    theme: str = DARK_THEME
    keymap_file: str = "~/.config/cntr-tui/keymap.toml"
    docker_host: str | None = None  # None: docker's default socket
    gdb_index_cache: str = GDB_INDEX_CACHE_DEFAULT  # a folder, or "off"
    host_root: str = "/"
    lxd_dir: str = LXD_DIR_DEFAULT
    gdb_trace: str | None = None
    fs_profile: str | None = None
    fs_counts: str | None = None
    guard_trace: str | None = None
    fs_passthrough: bool = True  # FUSE passthrough where the kernel offers it
    fs_spin: float = FS_SPIN_DEFAULT  # seconds (CNTR_TUI_FS_SPIN_US)
    agent: str = "on"  # "off", "on" or the name of a separate agent
    agent_idle: float = 300.0
    # None (a Settings made in code, the tests'): the TUI keeps nothing across sessions
    state_dir: str | None = None

    @classmethod
    def from_environment(cls, environ: Mapping[str, str] | None = None) -> Settings:
        env = os.environ if environ is None else environ
        config = env.get("XDG_CONFIG_HOME") or os.path.join(os.path.expanduser("~"), ".config")
        return cls(
            theme=env.get("CNTR_TUI_THEME") or DARK_THEME,
            keymap_file=os.path.join(config, "cntr-tui", "keymap.toml"),
            docker_host=env.get("DOCKER_HOST") or None,
            # set but empty is not an absolute folder: no cache, as "off"
            gdb_index_cache=env.get("CNTR_TUI_GDB_INDEX_CACHE", GDB_INDEX_CACHE_DEFAULT),
            host_root=env.get("CNTR_TUI_HOST_ROOT") or "/",
            lxd_dir=env.get("LXD_DIR") or LXD_DIR_DEFAULT,
            gdb_trace=env.get("CNTR_TUI_GDB_TRACE") or None,
            fs_profile=env.get("CNTR_TUI_FS_PROFILE") or None,
            fs_counts=env.get("CNTR_TUI_FS_COUNTS") or None,
            guard_trace=env.get("CNTR_TUI_GUARD_TRACE") or None,
            fs_passthrough=env.get("CNTR_TUI_FS_PASSTHROUGH", "on").lower() != "off",
            fs_spin=microseconds_or(env.get("CNTR_TUI_FS_SPIN_US"), FS_SPIN_DEFAULT),
            agent=env.get("CNTR_TUI_AGENT") or "on",
            agent_idle=float_or(env.get("CNTR_TUI_AGENT_IDLE"), 300.0),
            state_dir=env.get("CNTR_TUI_STATE_DIR") or STATE_DIR_DEFAULT,
        )


def microseconds_or(text: str | None, default: float) -> float:
    """`text`, microseconds, as seconds (0 allowed); `default` when unset or not a
    number of at least 0."""
    try:
        value = float(text) if text else None
    except ValueError:
        return default
    return default if value is None or not value >= 0 else value / 1e6


def float_or(text: str | None, default: float) -> float:
    """`text` as a number of seconds, `default` when unset or not a positive number."""
    try:
        value = float(text) if text else default
    except ValueError:
        return default
    return value if value > 0 else default
