"""Capability sets: the names of the bits, and a process's five sets decoded."""

from __future__ import annotations

from dataclasses import dataclass

CAPABILITY_NAMES = (
    "chown",
    "dac_override",
    "dac_read_search",
    "fowner",
    "fsetid",
    "kill",
    "setgid",
    "setuid",
    "setpcap",
    "linux_immutable",
    "net_bind_service",
    "net_broadcast",
    "net_admin",
    "net_raw",
    "ipc_lock",
    "ipc_owner",
    "sys_module",
    "sys_rawio",
    "sys_chroot",
    "sys_ptrace",
    "sys_pacct",
    "sys_admin",
    "sys_boot",
    "sys_nice",
    "sys_resource",
    "sys_time",
    "sys_tty_config",
    "mknod",
    "lease",
    "audit_write",
    "audit_control",
    "setfcap",
    "mac_override",
    "mac_admin",
    "syslog",
    "wake_alarm",
    "block_suspend",
    "audit_read",
    "perfmon",
    "bpf",
    "checkpoint_restore",
)
CAP_SYS_CHROOT = CAPABILITY_NAMES.index("sys_chroot")
CAP_SYS_PTRACE = CAPABILITY_NAMES.index("sys_ptrace")
CAP_SYS_ADMIN = CAPABILITY_NAMES.index("sys_admin")


def capability_names(mask: int) -> list[str]:
    """`["chown", "sys_ptrace", ...]` for the bits set in `mask`."""
    return [
        CAPABILITY_NAMES[bit] if bit < len(CAPABILITY_NAMES) else f"cap_{bit}"
        for bit in range(mask.bit_length())
        if mask >> bit & 1
    ]


@dataclass(frozen=True)
class Capabilities:
    """Capability sets of a process as bit masks (bit N = capability number N)."""

    inheritable: int
    permitted: int
    effective: int
    bounding: int
    ambient: int

    def has(self, capability: int) -> bool:
        """True when `capability` (e.g. CAP_SYS_PTRACE) is in the effective set."""
        return bool(self.effective >> capability & 1)

    @property
    def effective_names(self) -> list[str]:
        return capability_names(self.effective)


def from_status(fields: dict[str, str]) -> Capabilities:
    """The sets of a parsed /proc/PID/status (CapInh, CapPrm, CapEff, CapBnd, CapAmb)."""
    return Capabilities(
        inheritable=int(fields.get("CapInh", "0"), 16),
        permitted=int(fields.get("CapPrm", "0"), 16),
        effective=int(fields.get("CapEff", "0"), 16),
        bounding=int(fields.get("CapBnd", "0"), 16),
        ambient=int(fields.get("CapAmb", "0"), 16),
    )
