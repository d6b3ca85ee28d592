"""What every runtime module shares: its settings, its context, and its two failures.

A runtime module exposes one function `list_containers(context) -> list[Container]`
and knows no other runtime. It raises `RuntimeAbsent` when its CLI, socket or daemon
is missing (discovery then shows nothing for it, silently) and `RuntimeFailed` when
the runtime answered with an error (discovery turns it into one warning line).
"""

from __future__ import annotations

import os
import subprocess
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from cntr_tui.attach.container import KubernetesInfo
from cntr_tui.attach.process import ProcessInfo

if TYPE_CHECKING:
    from concurrent.futures import Future

    from cntr_tui.settings import Settings

DEFAULT_CONTAINERD_SOCKETS = (
    "/run/containerd/containerd.sock",
    "/var/run/docker/containerd/containerd.sock",
)

POD_NAME_LABEL = "io.kubernetes.pod.name"
POD_NAMESPACE_LABEL = "io.kubernetes.pod.namespace"
CONTAINER_NAME_LABEL = "io.kubernetes.container.name"
POD_UID_LABEL = "io.kubernetes.pod.uid"
SANDBOX_CONTAINER_NAME = "POD"


class RuntimeAbsent(Exception):
    """The runtime is not installed or its daemon does not run: show nothing, say nothing."""


class RuntimeFailed(Exception):
    """The runtime answered with an error: one warning line, the other runtimes still list."""


@dataclass(frozen=True)
class DiscoveryConfig:
    """Where to find each runtime; tests point these at fakes.

    `docker_host` None means the settings' (DOCKER_HOST), else docker's default
    socket; `host_root` None means the settings' (CNTR_TUI_HOST_ROOT): the default
    sockets are looked for under it (inside the node image, the node's root is at
    /host). Commands are looked up on PATH.
    """

    docker_host: str | None = None
    host_root: str | None = None
    lxd_socket: str | None = None  # None: the settings' LXD_DIR/unix.socket
    containerd_sockets: tuple[str, ...] = DEFAULT_CONTAINERD_SOCKETS
    podman_command: str = "podman"
    lxc_ls_command: str = "lxc-ls"
    lxc_paths: tuple[str, ...] = ()
    machinectl_command: str = "machinectl"
    timeout: float = 5.0

    def resolved_docker_host(self, settings: Settings | None = None) -> str:
        """The docker daemon's address; `settings` None: this process's environment."""
        if self.docker_host:
            return self.docker_host
        # here, not at the top: settings imports pathlib (~5 ms), paid only where a
        # docker host is resolved, not by every importer of the runtimes
        from cntr_tui.settings import DOCKER_HOST_DEFAULT, Settings

        if settings is None:
            settings = Settings.from_environment()
        if settings.docker_host:
            return settings.docker_host
        return "unix://" + self.under_host(DOCKER_HOST_DEFAULT.removeprefix("unix://"), settings)

    def resolved_host_root(self, settings: Settings | None = None) -> str:
        if self.host_root is not None:
            return self.host_root
        from cntr_tui.settings import Settings

        return (settings or Settings.from_environment()).host_root

    def under_host(self, path: str, settings: Settings | None = None) -> str:
        """`path` (absolute, as on the node) where this process sees it.

        The node's symbolic links are followed inside the host root, as the node
        would: its `/var/run -> /run` names `/host/run`, where a plain join would
        follow it to this container's own `/run`.
        """
        root = self.resolved_host_root(settings).rstrip("/")
        return self.in_host_root(root, path) if root else path

    @staticmethod
    def in_host_root(root: str, path: str, max_links: int = 40) -> str:
        """`root + path` with every symbolic link on the way resolved within `root`
        (openat2's RESOLVE_IN_ROOT, by readlink); a missing part ends the walk."""
        pending = [part for part in path.split("/") if part not in ("", ".")]
        resolved: list[str] = []
        links = 0
        while pending:
            part = pending.pop(0)
            if part == "..":
                resolved = resolved[:-1]
                continue
            try:
                target = os.readlink(f"{root}/{'/'.join([*resolved, part])}")
            except OSError:  # not a link, or not there: kept as it is
                resolved.append(part)
                continue
            links += 1
            if links > max_links:  # a loop: the plain join, which fails as the node's would
                return root + path
            if target.startswith("/"):
                resolved = []
            pending[:0] = [part for part in target.split("/") if part not in ("", ".")]
        return root + "/" + "/".join(resolved)

    def resolved_containerd_sockets(self, settings: Settings | None = None) -> tuple[str, ...]:
        """The containerd sockets, under the host root when they are the defaults."""
        if self.containerd_sockets != DEFAULT_CONTAINERD_SOCKETS:
            return self.containerd_sockets
        return tuple(self.under_host(path, settings) for path in self.containerd_sockets)

    def resolved_lxd_socket(self, settings: Settings | None = None) -> str:
        if self.lxd_socket:
            return self.lxd_socket
        from cntr_tui.settings import Settings

        settings = settings or Settings.from_environment()
        return self.under_host(f"{settings.lxd_dir.rstrip('/')}/unix.socket", settings)


@dataclass
class ListContext:
    """What a runtime's `list_containers` gets: settings, scope and the process table.

    A runtime that lists only part (one of two sockets failed) reports the rest with
    `warn`; one that fails entirely raises RuntimeFailed instead.

    `processes` is one scan of /proc shared by all runtimes; reading it waits for the
    scan, which runs concurrently with the runtimes' own queries.
    """

    config: DiscoveryConfig
    include_stopped: bool
    process_scan: Future[dict[int, ProcessInfo]] = field(repr=False)
    warnings: list[tuple[str, str]] = field(default_factory=list)

    def warn(self, runtime: str, message: str) -> None:
        """Report a partial failure while still returning what was found."""
        self.warnings.append((runtime, message))

    @property
    def processes(self) -> dict[int, ProcessInfo]:
        return self.process_scan.result()


def kubernetes_from_labels(labels: Mapping[str, str] | None) -> KubernetesInfo | None:
    """Pod, namespace, container name and pod UID from the labels the kubelet puts
    through CRI (the restart count is an annotation: the CRI's, see runtimes/cri.py).

    A pod's sandbox (pause) container has no container name: it is called "POD", as
    the kubelet's dockershim did.
    """
    if not labels:
        return None
    pod = labels.get(POD_NAME_LABEL)
    namespace = labels.get(POD_NAMESPACE_LABEL)
    if not pod or not namespace:
        return None
    return KubernetesInfo(
        namespace=namespace,
        pod=pod,
        container=labels.get(CONTAINER_NAME_LABEL) or SANDBOX_CONTAINER_NAME,
        uid=labels.get(POD_UID_LABEL) or None,
    )


def run_cli(
    command: Sequence[str], runtime: str, timeout: float, absent_markers: Sequence[str] = ()
) -> str:
    """Run a runtime's CLI and return its stdout.

    A missing executable raises RuntimeAbsent, and so does an error whose message
    contains one of `absent_markers` (e.g. "Failed to connect to bus"); any other
    failure raises RuntimeFailed with the last line of stderr.
    """
    import shutil  # here: shutil costs the look-up short cut 5-15 ms (bz2, lzma)

    executable = shutil.which(command[0])
    if executable is None:
        raise RuntimeAbsent(f"{command[0]} is not installed")
    try:
        result = subprocess.run(
            [executable, *command[1:]],
            capture_output=True,
            timeout=timeout,
            stdin=subprocess.DEVNULL,
        )
    except subprocess.TimeoutExpired:
        raise RuntimeFailed(f"{command[0]} did not answer within {timeout:g} s") from None
    if result.returncode != 0:
        message = result.stderr.decode(errors="replace").strip()
        if any(marker in message for marker in absent_markers):
            raise RuntimeAbsent(message)
        last = message.splitlines()[-1] if message else f"exit status {result.returncode}"
        raise RuntimeFailed(f"{' '.join(command[:2])} failed: {last}")
    return result.stdout.decode(errors="replace")
