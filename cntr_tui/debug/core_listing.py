"""The cores of containers as one list (`cntr-tui cores`, the TUI's cores screen):
those `cntr-tui core` kept on the host, and those the kernel wrote into a running
container (kernel_cores.py), newest first."""

from __future__ import annotations

import time
from collections.abc import Iterator, Sequence
from pathlib import Path

from cntr_tui.attach.container import Container
from cntr_tui.debug.core_bundle import DEFAULT_FOLDER, CoreBundle
from cntr_tui.debug.core_shelf import ListedCore
from cntr_tui.debug.kernel_cores import (
    CorePattern,
    KernelCore,
    core_pattern,
    keep_kernel_core,
    kernel_cores,
)
from cntr_tui.errors import UserError


def kept_cores(folder: Path = DEFAULT_FOLDER) -> Iterator[ListedCore]:
    for manifest_path in sorted(folder.glob("*/*.json")):
        bundle = CoreBundle(manifest_path.with_name(manifest_path.name.removesuffix(".json")))
        try:
            manifest = bundle.manifest()
            size = bundle.core.stat().st_size
        except (UserError, OSError):
            continue
        container = manifest.get("container") or {}
        process = manifest.get("process") or {}
        kernel = manifest.get("kernel_core") or {}
        yield ListedCore(
            "kept",
            container.get("runtime"),
            container.get("id"),
            container.get("name"),
            process.get("pid"),
            kernel.get("signal"),
            manifest.get("taken"),
            size,
            str(bundle.core),
        )


def listed_kernel_core(core: KernelCore) -> ListedCore:
    container = core.container
    return ListedCore(
        "kernel",
        container.runtime,
        container.id,
        container.name,
        core.notes.pid,
        core.notes.signal,
        time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(core.modified)),
        core.size,
        f"{container.name}:{core.path}",
    )


def is_of(listed: ListedCore, container: Container) -> bool:
    return listed.runtime == container.runtime and listed.container_id == container.id


def every_core(
    containers: Sequence[Container], pattern: CorePattern, only_of: Container | None = None
) -> tuple[list[ListedCore], dict[str, KernelCore]]:
    """Kept cores (those of `only_of` when given) and the kernel's cores in
    `containers`, newest first; the kernel's by their listed name, for keeping one."""
    found = [c for c in kept_cores() if only_of is None or is_of(c, only_of)]
    kernel: dict[str, KernelCore] = {}
    for container in containers:
        for core in kernel_cores(container, pattern):
            listed = listed_kernel_core(core)
            kernel[listed.core] = core
            found.append(listed)
    found.sort(key=lambda c: c.written or "", reverse=True)
    return found, kernel


class ServiceCoreShelf:
    """The real CoreShelf: this module's listing, kernel_cores' keeping, and a kept
    core's snapshot (core_snapshot.py)."""

    def __init__(self) -> None:
        self.kernel: dict[str, KernelCore] = {}

    def listing(self, container: Container | None) -> tuple[list[ListedCore], str]:
        pattern = core_pattern()
        found, self.kernel = every_core([container] if container else [], pattern)
        return found, pattern.not_read or ""

    def keep(self, core: ListedCore) -> Path:
        from cntr_tui.debug.protocol import DebugUnavailable

        if core.kind != "kernel":
            return Path(core.core)
        try:
            return keep_kernel_core(self.kernel[core.core]).core
        except (UserError, KeyError) as error:
            raise DebugUnavailable(f"not kept: {error}") from error

    async def read(self, core: Path) -> list[str]:
        from cntr_tui.debug.core_snapshot import snapshot_of_core
        from cntr_tui.debug.protocol import DebugUnavailable
        from cntr_tui.debug.snapshot_text import snapshot_text

        try:
            return snapshot_text(await snapshot_of_core(str(core), True), True)
        except UserError as error:
            raise DebugUnavailable(f"cannot open {core}: {error}") from error
