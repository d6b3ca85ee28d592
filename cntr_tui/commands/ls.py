"""`cntr-tui ls`: every running container as an aligned table, or `--json` as an array.

A listing with Kubernetes containers has two more columns, RESTARTS (the kubelet's
count) and POD UID, "-" for the others; JSON's `kubernetes` object has both always
(null when unknown).

Warnings (a runtime that answered with an error; with CONTAINER, a target outside
containers) go to stderr; the exit status is 0 as long as the listing itself could
be made. `ls CONTAINER` resolves the word exactly as attach, exec and gdb do.
"""

from __future__ import annotations

import json
import sys
from datetime import UTC, datetime
from typing import Any, TextIO

from cntr_tui.attach.container import NAMESPACE_KINDS, Container
from cntr_tui.attach.discovery import list_containers
from cntr_tui.attach.lookup import resolve
from cntr_tui.errors import warning_line

COLUMNS = ("RUNTIME", "ID", "NAME", "PID", "STATUS", "STARTED", "IMAGE", "NAMESPACES", "COMMAND")
KUBERNETES_COLUMNS = ("RESTARTS", "POD UID")  # before COMMAND, when a pod is listed
SHORT_ID = 12
MAX_COMMAND = 60


def iso_time(timestamp: float | None) -> str | None:
    """ISO 8601 in UTC with seconds, e.g. 2026-11-27T01:15:03+00:00."""
    if timestamp is None:
        return None
    return datetime.fromtimestamp(timestamp, UTC).isoformat(timespec="seconds")


def sorted_namespaces(container: Container) -> list[str]:
    return sorted(container.namespaces, key=NAMESPACE_KINDS.index)


def as_json_object(container: Container) -> dict[str, Any]:
    """The JSON form of one container, as `ls --json` prints it."""
    kubernetes = container.kubernetes
    return {
        "runtime": container.runtime,
        "id": container.id,
        "name": container.name,
        "image": container.image,
        "pid": container.pid,
        "status": container.status,
        "started_at": iso_time(container.started_at),
        "namespaces": sorted(container.namespaces),
        "command": container.command,
        "kubernetes": (
            {
                "namespace": kubernetes.namespace,
                "pod": kubernetes.pod,
                "container": kubernetes.container,
                "uid": kubernetes.uid,
                "restart_count": kubernetes.restart_count,
            }
            if kubernetes
            else None
        ),
        "runtime_namespace": container.runtime_namespace,
    }


def kubernetes_cells(container: Container) -> tuple[str, str]:
    kubernetes = container.kubernetes
    if kubernetes is None:
        return ("-", "-")
    restarts = "-" if kubernetes.restart_count is None else str(kubernetes.restart_count)
    return (restarts, kubernetes.uid or "-")


def table_row(container: Container, with_kubernetes: bool = False) -> tuple[str, ...]:
    started = iso_time(container.started_at)
    command = container.command
    if len(command) > MAX_COMMAND:
        command = command[: MAX_COMMAND - 1] + "…"
    runtime = container.runtime
    if container.runtime_namespace:
        runtime = f"{runtime}/{container.runtime_namespace}"
    return (
        runtime,
        container.id[:SHORT_ID] if len(container.id) == 64 else container.id,
        container.name,
        str(container.pid),
        container.status,
        started.replace("+00:00", "Z") if started else "-",
        container.image or "-",
        ",".join(sorted_namespaces(container)) or "-",
        *(kubernetes_cells(container) if with_kubernetes else ()),
        command,
    )


def format_table(containers: list[Container]) -> str:
    """Left-aligned columns separated by two spaces; the last column is not padded."""
    with_kubernetes = any(container.kubernetes for container in containers)
    header = (*COLUMNS[:-1], *KUBERNETES_COLUMNS, COLUMNS[-1]) if with_kubernetes else COLUMNS
    rows = [header, *(table_row(container, with_kubernetes) for container in containers)]
    widths = [max(len(row[index]) for row in rows) for index in range(len(header) - 1)]
    lines = []
    for row in rows:
        cells = [cell.ljust(width) for cell, width in zip(row, widths, strict=False)]
        lines.append("  ".join([*cells, row[-1]]).rstrip())
    return "\n".join(lines)


def run_ls(
    types: tuple[str, ...] | None,
    as_json: bool,
    word: str | None = None,
    out: TextIO = sys.stdout,
    err: TextIO = sys.stderr,
) -> int:
    """Print the listing; with `word`, only the container it resolves to (or fail)."""

    def warn(message: str) -> None:
        print(warning_line(message), file=err, flush=True)

    if word is not None:
        # the resolver attach, exec and gdb use, with its warnings
        containers = [resolve(word, types, allow_paused=True, warn=warn)]
    else:
        listing = list_containers(types)
        for warning in listing.warnings:
            warn(warning)
        containers = listing.containers
    if as_json:
        json.dump([as_json_object(c) for c in containers], out, indent=2)
        out.write("\n")
    else:
        out.write(format_table(containers) + "\n")
    return 0
