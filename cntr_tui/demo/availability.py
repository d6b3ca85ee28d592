"""Which container runtimes this machine can run right now, and why not."""

from __future__ import annotations

import shutil

from cntr_tui.demo import containers


def unavailable_reason(runtime: str) -> str | None:
    """None when `runtime` can start a container here, else the reason it cannot."""
    match runtime:
        case "docker":
            return None if containers.docker_available() else "dockerd does not answer"
        case "podman":
            return None if shutil.which("podman") else "podman is not installed"
        case "containerd":
            if containers.containerd_available():
                return None
            return f"no containerd answers on {containers.CONTAINERD_SOCKET}"
        case "lxc":
            return None if shutil.which("lxc-start") else "lxc is not installed"
        case "nspawn":
            return None if shutil.which("systemd-nspawn") else "systemd-nspawn is not installed"
        case "process":
            return None if shutil.which("unshare") else "unshare is not installed"
    return f"unknown runtime {runtime}"
