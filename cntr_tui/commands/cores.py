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
import sys
from collections.abc import Sequence

from cntr_tui.attach.container import Container
from cntr_tui.debug.core_listing import every_core
from cntr_tui.debug.core_shelf import ListedCore
from cntr_tui.debug.kernel_cores import core_pattern, keep_kernel_core, kernel_core_at
from cntr_tui.errors import UserError, warning_line

COLUMNS = ("KIND", "CONTAINER", "PID", "SIGNAL", "WRITTEN", "SIZE", "CORE")


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
    if pattern.not_read:
        warning_line(pattern.not_read)
    only_of = containers[0] if args.container is not None else None
    found, _ = every_core(containers, pattern, only_of)
    if args.json:
        json.dump([c.json() for c in found], sys.stdout, indent=1)
        print()
    else:
        print_table(found)
    return 0


def keep(container: Container, path: str, output: str | None) -> int:
    bundle = keep_kernel_core(kernel_core_at(container, path), output)
    opening = f"cntr-tui gdb --core {bundle.core}"
    print(f"{container.name}:{path} kept at {bundle.core}: open it with `{opening}`")
    return 0


def print_table(found: Sequence[ListedCore]) -> None:
    rows = [COLUMNS] + [core.cells() for core in found]
    widths = [max(len(row[i]) for row in rows) for i in range(len(COLUMNS) - 1)]
    for row in rows:
        print(
            "  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=False))
            + "  "
            + row[-1]
        )
