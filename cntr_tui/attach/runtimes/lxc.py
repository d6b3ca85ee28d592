"""LXC containers, from one `lxc-ls --fancy` per container path (names, states, PIDs)."""

from __future__ import annotations

from cntr_tui.attach.container import Container
from cntr_tui.attach.runtimes.base import ListContext, run_cli

RUNTIME = "lxc"
STATUS = {"RUNNING": "running", "FROZEN": "paused", "STOPPED": "stopped"}


def parse_fancy(text: str, lxc_path: str | None = None) -> list[Container]:
    """Containers from `lxc-ls --fancy --fancy-format NAME,STATE,PID` output."""
    containers = []
    for line in text.splitlines()[1:]:
        parts = line.split()
        if len(parts) < 3:
            continue
        name, state, pid = parts[:3]
        containers.append(
            Container(
                runtime=RUNTIME,
                id=name,
                name=name,
                pid=int(pid) if pid.isdigit() else 0,
                status=STATUS.get(state, state.lower()),
                runtime_namespace=lxc_path,
            )
        )
    return containers


def list_containers(context: ListContext) -> list[Container]:
    config = context.config
    containers: list[Container] = []
    for path in config.lxc_paths or (None,):
        command = [config.lxc_ls_command, "--fancy", "--fancy-format", "NAME,STATE,PID"]
        if path:
            command += ["--lxcpath", path]
        if not context.include_stopped:
            command.append("--active")
        containers += parse_fancy(run_cli(command, RUNTIME, config.timeout), path)
    return containers
