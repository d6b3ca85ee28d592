"""`take_core`: stop the target, have gdb write its core (gcore, through gdbserver when
it traces) to a host path, let the program go, then keep the objects it maps beside the
core (core_bundle.py). The pause is measured as the snapshot's is: from the write of
`-target-attach` to the answer of `-target-detach`.

Every way out leaves the program running untraced and either a whole bundle or none:
a failed gcore or a full disk removes what was written.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from cntr_tui.debug.core_bundle import (
    CoreBundle,
    default_core_path,
    folder_made_for,
    keep_objects,
    link_core,
    refuse_existing,
    write_manifest,
)
from cntr_tui.debug.ending import DETACH_TIMEOUT
from cntr_tui.debug.protocol import DebugUnavailable
from cntr_tui.debug.snapshot import (
    PauseClock,
    attach_telling,
    container_json,
    detach_checked,
    process_json,
)
from cntr_tui.debug.target import DebugTarget
from cntr_tui.errors import UserError
from cntr_tui.gdb.transport import mi_quote

if TYPE_CHECKING:
    from cntr_tui.gdb.starts import SessionStarts

GCORE_TIMEOUT = 300.0  # s: a large process's memory through gdbserver's pipe
CONTAINER_ROOT_IN_SESSION = "/var/lib/cntr"


@dataclass(frozen=True)
class CoreTaken:
    bundle: CoreBundle
    pause_ms: float
    size: int
    objects: int


def core_path(target: DebugTarget, output: str | None, option: str = "-o FILE") -> Path:
    if output is not None:
        path = Path(output).absolute()
    else:
        container = target.container
        runtime, name = (container.runtime, container.name) if container else ("host", "process")
        path = default_core_path(
            runtime, name, target.host_pid, time.strftime("%Y%m%dT%H%M%SZ", time.gmtime())
        )
    refuse_existing(path, option)
    if path == Path(CONTAINER_ROOT_IN_SESSION) or Path(CONTAINER_ROOT_IN_SESSION) in path.parents:
        raise UserError(
            f"{path}: under {CONTAINER_ROOT_IN_SESSION}, where a session shows the container's root"
        )
    return path


def manifest_of(
    target: DebugTarget,
    executable: str,
    started: int | None,
    pause_ms: float,
    tracer: str,
    language: str | None,
) -> dict[str, Any]:
    return {
        "container": container_json(target.container),
        "process": process_json(target, executable, started, tracer),
        "taken": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "pause_ms": round(pause_ms, 3),
        "language": language,
    }


def gcore_failure(console: str, error: str | None) -> str:
    lines = [line.strip() for line in f"{console}\n{error or ''}".splitlines() if line.strip()]
    return lines[-1] if lines else "gcore failed"


async def take_core(
    target: DebugTarget,
    output: str | None,
    starts: SessionStarts | None = None,
    notes: Callable[[str], None] = lambda text: None,
) -> CoreTaken:
    """Raises UserError (one line) when it cannot, with nothing of ours left."""
    from cntr_tui.debug.language_stacks import LanguageStackReader
    from cntr_tui.gdb.symbols import executable_in_container
    from cntr_tui.linux.proc_stat import start_ticks

    bundle = CoreBundle(core_path(target, output))
    executable = executable_in_container(target.host_pid)
    if executable is None:
        raise UserError(f"process {target.host_pid}: its executable is deleted or unreadable")
    started = start_ticks(target.host_pid)
    language = LanguageStackReader(target.host_pid).language
    with folder_made_for(bundle):
        return await take_into(bundle, target, starts, notes, executable, started, language)


async def take_into(
    bundle: CoreBundle,
    target: DebugTarget,
    starts: SessionStarts | None,
    notes: Callable[[str], None],
    executable: str,
    started: int | None,
    language: str | None,
) -> CoreTaken:
    import asyncio

    from cntr_tui.debug.launchers import choose_launch
    from cntr_tui.debug.service import start_debug

    launch = await choose_launch(target, starts)
    try:
        session = await start_debug(target, launch)
    except DebugUnavailable as error:
        raise UserError(str(error)) from error
    gdb = session.gdb
    clock = PauseClock(gdb)
    written = False
    try:
        await attach_telling(session, notes)
        where = session.location_in_container(str(bundle.core))
        written = True  # from here, a failure removes what gcore wrote
        dumped = await asyncio.wait_for(
            gdb.command(f"-interpreter-exec console {mi_quote('gcore ' + where)}"), GCORE_TIMEOUT
        )
        tracer = gdb.tracer
        await detach_checked(gdb, target, started)
        if not dumped.ok or "Saved corefile" not in dumped.console or not bundle.core.is_file():
            raise UserError(f"gcore: {gcore_failure(dumped.console, dumped.error)}")
        pause_ms = clock.pause_ms()
        try:
            kept = keep_objects(bundle, target.host_pid)
            link_core(bundle)
            write_manifest(
                bundle, manifest_of(target, executable, started, pause_ms, tracer, language), kept
            )
        except OSError as error:
            raise UserError(
                f"keeping the core's objects failed: {error.strerror or error}"
            ) from error
        return CoreTaken(bundle, pause_ms, bundle.core.stat().st_size, len(kept))
    except BaseException:
        if written:
            with contextlib.suppress(OSError):
                bundle.remove()
        raise
    finally:
        await gdb.close(detach_timeout=DETACH_TIMEOUT)
