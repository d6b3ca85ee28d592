"""Opening a kept core (core_bundle.py) in the host's gdb: the kept objects as sysroot,
their debug files and the host's as debug folders, the program's own file, the core."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path

from cntr_tui.debug.core_bundle import CoreBundle
from cntr_tui.errors import UserError

HOST_DEBUG = "/usr/lib/debug"


def core_setup(bundle: CoreBundle) -> list[str]:
    """gdb's arguments that open the bundle (raises UserError for a bad one)."""
    bundle.manifest()
    executable = bundle.executable()
    if not executable.is_file():
        raise UserError(f"{bundle.core}: the program's file is not kept ({executable})")
    return [
        "-iex",
        f"set sysroot {bundle.sysroot}",
        "-iex",
        f"set debug-file-directory {bundle.debug_folder}:{HOST_DEBUG}",
        "-iex",
        "set pagination off",
        "-iex",
        "set confirm off",
        "-ex",
        f"file {executable}",
        "-ex",
        f"core-file {bundle.core}",
    ]


def run_core_gdb(core: str, commands: Sequence[str], batch: bool) -> int:
    """`cntr-tui gdb --core FILE [--batch] [-ex CMD]...`: gdb's exit status."""
    setup = core_setup(CoreBundle(Path(core).absolute()))
    extra = [word for command in commands for word in ("-ex", command)]
    argv = ["gdb", "-nx", "-q", *setup, *extra]
    if batch:
        done = subprocess.run([*argv[:1], "-batch", *argv[1:]], stdin=subprocess.DEVNULL)
        return done.returncode
    if not sys.stdin.isatty():
        raise UserError("an interactive gdb needs a terminal: use --batch with -ex commands")
    return subprocess.run(argv).returncode
