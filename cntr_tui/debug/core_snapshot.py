"""`snapshot --core FILE`: the snapshot of a kept core (core_bundle.py), read the same
way as a live one (every thread's stack through gdb's MI, Python frames in place of the
interpreter's loop) with nothing stopped: the host's gdb opens the core against the
kept objects, pystack reads its Python frames chrooted into them."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import Any

from cntr_tui.attach.container import Container
from cntr_tui.debug.core_bundle import CoreBundle
from cntr_tui.debug.core_open import HOST_DEBUG
from cntr_tui.debug.snapshot import (
    Budget,
    PauseClock,
    Snapshot,
    StackError,
    build_snapshot,
    read_stacks,
)
from cntr_tui.debug.target import DebugTarget
from cntr_tui.errors import UserError
from cntr_tui.gdb.transport import mi_quote
from cntr_tui.languages.python import read_python_core
from cntr_tui.languages.records import LanguageStacks


def core_target(manifest: dict[str, Any], core: Path) -> DebugTarget:
    process, kept = manifest["process"], manifest.get("container")
    container = None
    if kept is not None:
        container = Container(
            kept["runtime"],
            kept["id"],
            kept["name"],
            process["host_pid"] or 0,
            kept.get("image"),
            status="core",
        )
    where = f"{kept['runtime']} {kept['name']}" if kept else f"process {process['host_pid']}"
    return DebugTarget(
        process["host_pid"] or 0,  # None: a kernel's core, of a process gone
        process["pid"],
        container,
        f"core {core} of {where} (taken {manifest.get('taken', '?')})",
    )


async def snapshot_of_core(core: str, with_locals: bool = False) -> Snapshot:
    """Raises UserError (one line) for a file that is not a kept core or one gdb
    cannot open."""
    from cntr_tui.gdb.launch import HostLauncher
    from cntr_tui.gdb.session import GdbSession

    bundle = CoreBundle(Path(core).absolute())
    manifest = bundle.manifest()
    executable = bundle.executable()
    target = core_target(manifest, bundle.core)
    gdb = await GdbSession.start(HostLauncher(root=str(bundle.sysroot), tracer="native"))
    try:
        for command in (
            f"-gdb-set debug-file-directory {bundle.debug_folder}:{HOST_DEBUG}",
            f"-file-exec-and-symbols {mi_quote(str(executable))}",
            f"-interpreter-exec console {mi_quote('core-file ' + str(bundle.core))}",
        ):
            done = await gdb.command(command)
            if not done.ok:
                raise UserError(f"gdb could not open {bundle.core}: {done.error}")
        budget = Budget(PauseClock(gdb), None, 0)
        try:
            read = await read_stacks(gdb, budget, with_locals)
        except StackError as error:
            raise UserError(f"{bundle.core}: {error}") from error
    finally:
        await gdb.close()
    language: LanguageStacks | None = None
    if manifest.get("language") == "python":
        path = manifest["process"]["executable"]
        language = await read_python_core(
            str(bundle.sysroot), "/" + bundle.core_in_sysroot.name, path, with_locals
        )
    snapshot = build_snapshot(
        target,
        read,
        str(executable),
        manifest["process"].get("start_ticks"),
        manifest["process"].get("tracer", "?"),
        float(manifest.get("pause_ms") or 0.0),  # None: the kernel wrote it
        None,
        language,
    )
    return replace(snapshot, core=str(bundle.core))
