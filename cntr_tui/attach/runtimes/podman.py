"""Podman containers (root's), from one `podman ps --format json`."""

from __future__ import annotations

import json
from typing import Any

from cntr_tui.attach.container import Container
from cntr_tui.attach.runtimes.base import (
    ListContext,
    RuntimeFailed,
    kubernetes_from_labels,
    run_cli,
)

RUNTIME = "podman"


def parse_ps_json(text: str) -> list[Container]:
    """Containers from the output of `podman ps --format json`."""
    try:
        entries: list[dict[str, Any]] = json.loads(text or "[]") or []
    except json.JSONDecodeError as error:
        raise RuntimeFailed(f"podman ps printed no JSON: {error}") from error
    containers = []
    for entry in entries:
        names = entry.get("Names") or []
        command = entry.get("Command") or []
        started = entry.get("StartedAt") or 0
        containers.append(
            Container(
                runtime=RUNTIME,
                id=entry["Id"],
                name=names[0] if names else entry["Id"][:12],
                pid=int(entry.get("Pid") or 0),
                image=entry.get("Image") or None,
                status=(entry.get("State") or "unknown").lower(),
                started_at=float(started) if started and started > 0 else None,
                command=" ".join(command) if isinstance(command, list) else str(command),
                kubernetes=kubernetes_from_labels(entry.get("Labels")),
            )
        )
    return containers


def list_containers(context: ListContext) -> list[Container]:
    command = [context.config.podman_command, "ps", "--all", "--format", "json"]
    if not context.include_stopped:
        # plain `podman ps` leaves paused containers out
        command += ["--filter", "status=running", "--filter", "status=paused"]
    return parse_ps_json(run_cli(command, RUNTIME, context.config.timeout))
