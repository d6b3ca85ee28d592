"""The runtime modules, found through this registry.

Each daemon-backed runtime module has `list_containers(context) -> list[Container]`
(see `base`); `procfs` is different: it finds what no runtime claimed, so discovery
calls it last with the others' results. Adding a runtime means adding a module and a
line here.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

from cntr_tui.attach.container import Container
from cntr_tui.attach.runtimes import containerd, docker, lxc, lxd, nspawn, podman
from cntr_tui.attach.runtimes.base import ListContext

RuntimeLister = Callable[[ListContext], list[Container]]

# In order of precedence: when two runtimes report the same host PID (docker's
# containers also live in containerd's `moby` namespace), the earlier one keeps it.
RUNTIME_LISTERS: Mapping[str, RuntimeLister] = {
    "docker": docker.list_containers,
    "podman": podman.list_containers,
    "lxd": lxd.list_containers,  # before lxc: LXD runs its containers with liblxc
    "lxc": lxc.list_containers,
    "nspawn": nspawn.list_containers,
    "containerd": containerd.list_containers,
}
