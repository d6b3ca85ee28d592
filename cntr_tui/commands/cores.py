"""`cntr-tui cores [-t TYPES] [CONTAINER] [--json]` and
`cntr-tui cores CONTAINER --keep PATH [-o FILE]`

The cores there are of containers: those `cntr-tui core` kept on the host (under
/var/lib/cntr-tui/cores/), and those the kernel wrote into a running container for a
process of it that crashed (debug/kernel_cores.py), newest first. `--keep` copies a
kernel core and the files it maps to the host, so that `cntr-tui gdb --core FILE`
opens it, also after the container is gone.
"""

from __future__ import annotations

import argparse
import json
import signal
import sys
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cntr_tui.attach.container import Container
from cntr_tui.debug.core_bundle import DEFAULT_FOLDER, CoreBundle
from cntr_tui.debug.kernel_cores import KernelCore, core_pattern, kernel_core_at, kernel_cores
from cntr_tui.errors import UserError, warning_line

COLUMNS = ("KIND", "CONTAINER", "PID", "SIGNAL", "WRITTEN", "SIZE", "CORE")


@dataclass(frozen=True)
class ListedCore:
    kind: str  # "kept" (on the host) or "kernel" (in a running container)
    runtime: str | None
    container_id: str | None
    container: str | None
    pid: int | None
    signal: int | None
    written: str | None
    size: int
    core: str  # a host path, or CONTAINER:PATH for a kernel core

    def json(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "container": {"runtime": self.runtime, "id": self.container_id, "name": self.container},
            "pid": self.pid,
            "signal": signal_name(self.signal),
            "written": self.written,
            "size": self.size,
            "core": self.core,
        }


def signal_name(number: int | None) -> str | None:
    if not number:
        return None
    try:
        return signal.Signals(number).name
    except ValueError:
        return str(number)


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


def run_cores(args: argparse.Namespace) -> int:
    from cntr_tui.attach.discovery import list_containers
    from cntr_tui.attach.lookup import resolve, wanted_runtimes

    if args.keep is not None:
        if args.container is None:
            raise UserError("--keep PATH needs the CONTAINER the core is in")
        return keep(resolve(args.container, args.types), args.keep, args.output)
    if args.output is not None:
        raise UserError("-o FILE goes with --keep PATH")
    if args.container is not None:
        containers = [resolve(args.container, args.types)]
    else:
        containers = list_containers(wanted_runtimes(args.types)).containers
    pattern = core_pattern()
    if pattern.is_pipe:
        warning_line(f"core_pattern pipes cores to {pattern.text[1:].split()[0]}: not looked for")
    found = [c for c in kept_cores() if args.container is None or is_of(c, containers[0])]
    for container in containers:
        found += [listed_kernel_core(core) for core in kernel_cores(container, pattern)]
    found.sort(key=lambda c: c.written or "", reverse=True)
    if args.json:
        json.dump([c.json() for c in found], sys.stdout, indent=1)
        print()
    else:
        print_table(found)
    return 0


def keep(container: Container, path: str, output: str | None) -> int:
    from cntr_tui.debug.kernel_cores import keep_kernel_core

    bundle = keep_kernel_core(kernel_core_at(container, path), output)
    opening = f"cntr-tui gdb --core {bundle.core}"
    print(f"{container.name}:{path} kept at {bundle.core}: open it with `{opening}`")
    return 0


def print_table(found: Sequence[ListedCore]) -> None:
    rows = [COLUMNS] + [
        (
            c.kind,
            f"{c.runtime}/{c.container}" if c.container else "-",
            str(c.pid or "-"),
            signal_name(c.signal) or "-",
            c.written or "-",
            f"{c.size / (1 << 20):.1f}M",
            c.core,
        )
        for c in found
    ]
    widths = [max(len(row[i]) for row in rows) for i in range(len(COLUMNS) - 1)]
    for row in rows:
        print(
            "  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=False))
            + "  "
            + row[-1]
        )
