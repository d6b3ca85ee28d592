"""How a gdb process sees the world: where the container's root and the host's are.

Kept apart from launch.py (asyncio) so that the gdb command line can be built, and gdb
started, before the asyncio engine is imported.
"""

from __future__ import annotations

from dataclasses import dataclass

HOST_DEBUG_DIR = "/usr/lib/debug"


@dataclass(frozen=True)
class Placement:
    """How the gdb process sees the world.

    `container_root`: the container's `/` as gdb names it (`/var/lib/cntr`, or
    `/proc/HOSTPID/root` from the host; "" when the target shares our root).
    `container_root_on_host`: the same folder as this process can open it.
    `host_root`: the host's `/` as gdb names it ("" means gdb's own `/`).
    `container_host_pid`: a host PID of a process in the container (to tell a stopped
    container from a crashed gdb); None when unknown.
    `inside_session`: True when gdb runs in the container's namespaces.
    """

    container_root: str = ""
    container_root_on_host: str = ""
    host_root: str = ""
    container_host_pid: int | None = None
    inside_session: bool = False
    description: str = "host gdb"

    def to_host(self, path: str) -> str:
        """A path as gdb names it -> the path this process opens for the same file."""
        root = self.container_root.rstrip("/")
        if root and (path == root or path.startswith(root + "/")):
            return self.container_root_on_host.rstrip("/") + path[len(root) :]
        return self.host_root.rstrip("/") + path if self.host_root else path

    def in_container(self, path: str) -> str:
        """A path under the container's root (as gdb names it) -> the container's path."""
        root = self.container_root.rstrip("/")
        if root and (path == root or path.startswith(root + "/")):
            return path[len(root) :] or "/"
        return path

    def container_path(self, path_in_container: str) -> str:
        """A path in the container -> the same file as gdb names it."""
        root = self.container_root.rstrip("/")
        return root + path_in_container if root else path_in_container
