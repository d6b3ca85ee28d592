"""What /proc says about a process: namespaces, capabilities, ids, environment, cgroups.

Read-only helpers, safe to call from any thread of any process (the TUI included):
nothing here enters a namespace. Every function takes a host PID and raises
`ProcessGone` (a `ProcessLookupError`) when the process does not exist or exits while
it is read; `PermissionError` passes through (reading another user's `environ` needs
ptrace rights).

The host's namespaces are those of this process (`/proc/self/ns`): on some machines
PID 1 is a sandbox init whose `/proc/1/ns` cannot be read, and cntr-tui runs on the
host anyway.

Main entry points:
- `namespace_ids(pid)`, `namespaces_differing(pid)`: namespace inodes, and the kinds
  (mnt, pid, net, ipc, uts, user, cgroup) in which `pid` differs from the host.
- `status(pid)`: the parsed `/proc/PID/status` (ids, capabilities, seccomp,
  no_new_privs, NSpid) as a `ProcessStatus`; `capabilities(pid)` is its `Capabilities`.
- `read_environ(pid)`, `read_cmdline(pid)`, `command_line(pid)`, `comm(pid)`.
- `cgroups(pid)`, `id_maps(pid)`, `security_label(pid)`, `start_time(pid)`.
- `children(pid)`, `process_tree(pid)`, `ancestors(pid)`.
- `scan_processes()`: one cheap pass over /proc giving a `ProcessInfo` per process
  (parent, comm, start time, PID and mount namespace), the base of discovery.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from functools import cache
from types import MappingProxyType

from cntr_tui.attach.container import NAMESPACE_KINDS

PROC = "/proc"

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


class ProcessGone(ProcessLookupError):
    """The process does not exist (any more)."""


@contextlib.contextmanager
def _gone_as_lookup_error(pid: int) -> Iterator[None]:
    try:
        yield
    except (FileNotFoundError, ProcessLookupError) as error:
        raise ProcessGone(f"process {pid} does not exist") from error
    except OSError as error:
        # ESRCH shows up when a process exits between open() and read().
        if error.errno == 3:
            raise ProcessGone(f"process {pid} does not exist") from error
        raise


def _read_bytes(pid: int | str, name: str) -> bytes:
    with (
        _gone_as_lookup_error(int(pid) if str(pid).isdigit() else -1),
        open(f"{PROC}/{pid}/{name}", "rb") as file,
    ):
        return file.read()


def _read_text(pid: int | str, name: str) -> str:
    return _read_bytes(pid, name).decode(errors="replace")


# namespaces


def namespace_ids(pid: int | str) -> dict[str, int]:
    """Inode number of each namespace kind of `pid` (kinds the kernel lacks are absent).

    `pid` may be "self". Two processes share a namespace when the inodes are equal.
    """
    ids: dict[str, int] = {}
    for kind in NAMESPACE_KINDS:
        try:
            link = os.readlink(f"{PROC}/{pid}/ns/{kind}")
        except FileNotFoundError:
            if not os.path.exists(f"{PROC}/{pid}"):
                raise ProcessGone(f"process {pid} does not exist") from None
            continue
        ids[kind] = int(link[link.index("[") + 1 : -1])
    return ids


@cache
def host_namespace_ids() -> Mapping[str, int]:
    """The namespaces of this process, the reference for "differs from the host"."""
    return MappingProxyType(namespace_ids("self"))


def differing_kinds(
    ids: Mapping[str, int], reference: Mapping[str, int] | None = None
) -> frozenset[str]:
    """Kinds whose inode in `ids` differs from `reference` (default: the host's)."""
    reference = host_namespace_ids() if reference is None else reference
    return frozenset(kind for kind, inode in ids.items() if reference.get(kind) != inode)


def namespaces_differing(pid: int) -> frozenset[str]:
    """Namespace kinds (mnt, pid, net, ipc, uts, user, cgroup) where `pid` is not the host's."""
    return differing_kinds(namespace_ids(pid))


# command line, environment, names


def read_cmdline(pid: int) -> list[str]:
    """argv of `pid`; empty for kernel threads and zombies."""
    raw = _read_bytes(pid, "cmdline")
    return [part.decode(errors="replace") for part in raw.split(b"\0")[:-1]] if raw else []


def command_line(pid: int) -> str:
    """argv joined by spaces, or `[comm]` for a process without one (kernel thread)."""
    argv = read_cmdline(pid)
    return " ".join(argv) if argv else f"[{comm(pid)}]"


def comm(pid: int) -> str:
    """The kernel's short name of `pid` (at most 15 characters)."""
    return _read_text(pid, "comm").rstrip("\n")


def read_environ(pid: int) -> dict[str, str]:
    """The environment `pid` was started with (later setenv calls are not visible)."""
    environ: dict[str, str] = {}
    for entry in _read_bytes(pid, "environ").split(b"\0"):
        key, sep, value = entry.partition(b"=")
        if sep and key:
            environ[key.decode(errors="replace")] = value.decode(errors="replace")
    return environ


# status: ids, capabilities, seccomp


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


def capability_names(mask: int) -> list[str]:
    """`["chown", "sys_ptrace", ...]` for the bits set in `mask`."""
    return [
        CAPABILITY_NAMES[bit] if bit < len(CAPABILITY_NAMES) else f"cap_{bit}"
        for bit in range(mask.bit_length())
        if mask >> bit & 1
    ]


@dataclass(frozen=True)
class ProcessStatus:
    """The fields of `/proc/PID/status` that matter for attaching to a process.

    `uids`/`gids` are (real, effective, saved, filesystem). `nspids` lists the PID in
    each PID namespace from the host's down to the process's own (its last element is
    the PID as the container sees it). `seccomp` is 0 (off), 1 (strict), 2 (filter).
    """

    name: str
    state: str
    ppid: int
    uids: tuple[int, int, int, int]
    gids: tuple[int, int, int, int]
    groups: tuple[int, ...]
    capabilities: Capabilities
    no_new_privs: bool
    seccomp: int
    nspids: tuple[int, ...]
    threads: int


def _status_fields(pid: int) -> dict[str, str]:
    fields: dict[str, str] = {}
    for line in _read_text(pid, "status").splitlines():
        key, _, value = line.partition(":")
        fields[key] = value.strip()
    return fields


def _four_ints(text: str) -> tuple[int, int, int, int]:
    a, b, c, d = (int(part) for part in text.split())
    return (a, b, c, d)


def status(pid: int) -> ProcessStatus:
    """Parsed `/proc/PID/status`."""
    fields = _status_fields(pid)
    return ProcessStatus(
        name=fields.get("Name", ""),
        state=fields.get("State", "?").split(" ", 1)[0],
        ppid=int(fields.get("PPid", "0")),
        uids=_four_ints(fields["Uid"]),
        gids=_four_ints(fields["Gid"]),
        groups=tuple(int(group) for group in fields.get("Groups", "").split()),
        capabilities=Capabilities(
            inheritable=int(fields.get("CapInh", "0"), 16),
            permitted=int(fields.get("CapPrm", "0"), 16),
            effective=int(fields.get("CapEff", "0"), 16),
            bounding=int(fields.get("CapBnd", "0"), 16),
            ambient=int(fields.get("CapAmb", "0"), 16),
        ),
        no_new_privs=fields.get("NoNewPrivs", "0") == "1",
        seccomp=int(fields.get("Seccomp", "0")),
        nspids=tuple(int(part) for part in fields.get("NSpid", str(pid)).split()),
        threads=int(fields.get("Threads", "1")),
    )


def capabilities(pid: int) -> Capabilities:
    """The capability sets of `pid` (CapEff is what cntr limits an attached shell to)."""
    return status(pid).capabilities


@dataclass(frozen=True)
class IdMapRange:
    """One line of uid_map/gid_map: `count` ids from `inside` map to `outside`."""

    inside: int
    outside: int
    count: int


@dataclass(frozen=True)
class IdMaps:
    uid: tuple[IdMapRange, ...]
    gid: tuple[IdMapRange, ...]

    def host_uid(self, inside: int) -> int | None:
        return _map_id(self.uid, inside)

    def host_gid(self, inside: int) -> int | None:
        return _map_id(self.gid, inside)


def _map_id(ranges: tuple[IdMapRange, ...], inside: int) -> int | None:
    for entry in ranges:
        if entry.inside <= inside < entry.inside + entry.count:
            return entry.outside + inside - entry.inside
    return None


def _parse_id_map(text: str) -> tuple[IdMapRange, ...]:
    return tuple(
        IdMapRange(*(int(part) for part in line.split()))
        for line in text.splitlines()
        if line.strip()
    )


def id_maps(pid: int) -> IdMaps:
    """The uid/gid maps of the user namespace of `pid` (identity maps outside one)."""
    return IdMaps(
        uid=_parse_id_map(_read_text(pid, "uid_map")),
        gid=_parse_id_map(_read_text(pid, "gid_map")),
    )


def security_label(pid: int) -> str | None:
    """The LSM label (AppArmor profile, SELinux context) of `pid`, None without an LSM."""
    try:
        label = _read_text(pid, "attr/current").strip("\0\n ")
    except (PermissionError, OSError) as error:
        if isinstance(error, ProcessGone):
            raise
        return None
    return label or None


# cgroups


@dataclass(frozen=True)
class CgroupEntry:
    """One line of `/proc/PID/cgroup`: hierarchy 0 with no controllers is cgroup v2."""

    hierarchy: int
    controllers: tuple[str, ...]
    path: str


def cgroups(pid: int) -> list[CgroupEntry]:
    """The cgroups of `pid`, as the kernel lists them (paths relative to each mount)."""
    entries: list[CgroupEntry] = []
    for line in _read_text(pid, "cgroup").splitlines():
        hierarchy, controllers, path = line.split(":", 2)
        entries.append(
            CgroupEntry(int(hierarchy), tuple(filter(None, controllers.split(","))), path)
        )
    return entries


# time


@cache
def _clock_ticks() -> int:
    return os.sysconf("SC_CLK_TCK")


@cache
def boot_time() -> float:
    """The host's boot time as a Unix timestamp."""
    with open(f"{PROC}/stat") as file:
        for line in file:
            if line.startswith("btime "):
                return float(line.split()[1])
    raise RuntimeError("no btime in /proc/stat")


def _stat(pid: int) -> tuple[str, list[str]]:
    """(comm, the fields after comm) of `/proc/PID/stat`: fields[0] is the state."""
    text = _read_text(pid, "stat")
    # comm may contain spaces and parentheses: it ends at the last ")".
    end = text.rindex(")")
    return text[text.index("(") + 1 : end], text[end + 2 :].split()


def _stat_fields(pid: int) -> list[str]:
    return _stat(pid)[1]


def start_time(pid: int) -> float:
    """When `pid` started, as a Unix timestamp."""
    return ticks_to_timestamp(int(_stat_fields(pid)[19]))


def ticks_to_timestamp(ticks: int) -> float:
    return boot_time() + ticks / _clock_ticks()


# process tree


def parent_pid(pid: int) -> int:
    return int(_stat_fields(pid)[1])


def children(pid: int) -> list[int]:
    """Direct children of `pid` (over all its threads), in PID order."""
    found: set[int] = set()
    with _gone_as_lookup_error(pid):
        tasks = os.listdir(f"{PROC}/{pid}/task")
    for task in tasks:
        try:
            with open(f"{PROC}/{pid}/task/{task}/children") as file:
                found.update(int(child) for child in file.read().split())
        except FileNotFoundError:
            continue  # the thread exited meanwhile
    return sorted(found)


def ancestors(pid: int) -> list[int]:
    """Parents of `pid`, nearest first, up to (and including) PID 1 or the first visible."""
    chain: list[int] = []
    current = pid
    while True:
        try:
            current = parent_pid(current)
        except ProcessGone:
            break
        if current <= 0 or current in chain:
            break
        chain.append(current)
    return chain


@dataclass(frozen=True)
class ProcessNode:
    """A process and its descendants; `command` is `command_line(pid)`."""

    pid: int
    command: str
    children: tuple[ProcessNode, ...] = ()

    def walk(self) -> Iterator[tuple[int, ProcessNode]]:
        """(depth, node) for this node and every descendant, depth first."""
        stack: list[tuple[int, ProcessNode]] = [(0, self)]
        while stack:
            depth, node = stack.pop()
            yield depth, node
            stack.extend((depth + 1, child) for child in reversed(node.children))


def process_tree(pid: int) -> ProcessNode:
    """`pid` with all its descendants; processes that exit meanwhile are left out."""
    command = command_line(pid)
    nodes: list[ProcessNode] = []
    for child in children(pid):
        with contextlib.suppress(ProcessGone):
            nodes.append(process_tree(child))
    return ProcessNode(pid, command, tuple(nodes))


# one pass over every process


@dataclass(frozen=True)
class ProcessInfo:
    """What `scan_processes` learns of one process, cheaply: no argv, two namespaces.

    `pid_ns`/`mnt_ns` are namespace inodes (0 when unreadable); use `namespace_ids`
    and `command_line` for the rest, on the few processes that matter.
    """

    pid: int
    ppid: int
    comm: str
    start_ticks: int
    pid_ns: int
    mnt_ns: int

    @property
    def started_at(self) -> float:
        return ticks_to_timestamp(self.start_ticks)


def pids() -> list[int]:
    """Every visible PID (thread group leaders only)."""
    return [int(name) for name in os.listdir(PROC) if name.isdigit()]


def _namespace_inode(pid: int, kind: str) -> int:
    try:
        link = os.readlink(f"{PROC}/{pid}/ns/{kind}")
    except FileNotFoundError:
        raise ProcessGone(f"process {pid} does not exist") from None
    except PermissionError:
        return 0
    return int(link[link.index("[") + 1 : -1])


def process_info(pid: int) -> ProcessInfo:
    name, fields = _stat(pid)
    return ProcessInfo(
        pid=pid,
        ppid=int(fields[1]),
        comm=name,
        start_ticks=int(fields[19]),
        pid_ns=_namespace_inode(pid, "pid"),
        mnt_ns=_namespace_inode(pid, "mnt"),
    )


def scan_processes() -> dict[int, ProcessInfo]:
    """A `ProcessInfo` for every process that lives through the scan (kernel threads too)."""
    table: dict[int, ProcessInfo] = {}
    for pid in pids():
        with contextlib.suppress(ProcessGone, PermissionError):
            table[pid] = process_info(pid)
    return table
