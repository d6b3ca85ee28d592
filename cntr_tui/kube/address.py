"""A container's runtime id as the kubelet reports it (`containerd://ID`) -> the words
that name it to cntr-tui inside the node pod (`-t containerd ID`), and the cntr-tui
command line that debugs it."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from cntr_tui.errors import UserError

# the kubelet's scheme (the CRI runtime's name) -> cntr-tui's runtime type
SCHEMES = {"containerd": "containerd", "docker": "docker"}
# schemes the kubelet can report whose containers cntr-tui cannot list
UNSUPPORTED = {"cri-o": "CRI-O", "crio": "CRI-O"}
DEFAULT_COMMAND = "ui"
# cntr-tui's subcommands that take a CONTAINER (the others cannot be pointed at one)
CONTAINER_COMMANDS = frozenset({"ui", "ls", "attach", "exec", "gdb", "snapshot", "core", "doctor"})


@dataclass(frozen=True)
class ContainerAddress:
    runtime: str  # cntr-tui's -t type
    id: str

    @property
    def words(self) -> list[str]:
        return ["-t", self.runtime, self.id]


def parse_container_id(text: str) -> ContainerAddress:
    """`containerd://3f1c...` -> ContainerAddress("containerd", "3f1c..."); UserError
    for a scheme cntr-tui has no runtime for, or text that is no `SCHEME://ID`."""
    scheme, separator, container_id = text.partition("://")
    if not separator or not scheme or not container_id or "/" in container_id:
        raise UserError(f"not a container id of the form RUNTIME://ID: {text!r}")
    if scheme in UNSUPPORTED:
        raise UserError(
            f"the container runs under {UNSUPPORTED[scheme]} ({text}); cntr-tui has no "
            f"{UNSUPPORTED[scheme]} runtime yet (it debugs containerd's and docker's)"
        )
    runtime = SCHEMES.get(scheme)
    if runtime is None:
        raise UserError(
            f"unknown container runtime {scheme!r} in {text}; cntr-tui knows "
            + ", ".join(f"{name}://" for name in SCHEMES)
        )
    return ContainerAddress(runtime, container_id)


def cntr_tui_command(address: ContainerAddress, args: Sequence[str]) -> list[str]:
    """`cntr-tui SUBCOMMAND -t RUNTIME ID REST...`: `args` (what followed `--`) start
    with the subcommand, default the TUI; the container goes right after the
    subcommand, before anything a command takes as its own command line (attach's
    `-- CMD`)."""
    words = list(args) or [DEFAULT_COMMAND]
    subcommand, rest = words[0], words[1:]
    if subcommand not in CONTAINER_COMMANDS:
        raise UserError(
            f"cntr-tui {subcommand} does not take a container; after -- give one of "
            + ", ".join(sorted(CONTAINER_COMMANDS))
        )
    return ["cntr-tui", subcommand, *address.words, *rest]
