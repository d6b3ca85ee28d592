"""Processes as attach and discovery see them, built on `cntr_tui.linux`.

- `scan_processes()`: one cheap pass over /proc giving a `ProcessInfo` per process
  (parent, comm, start time, PID and mount namespace), the base of discovery.
- `process_tree(pid)`: a process and its descendants with their command lines, as a
  `ProcessTree` (not the details panel's `container.ProcessNode`, which is a PID
  namespace's processes by parent).

The readers of single facts (status, namespaces, argv, cgroups...) are in
`cntr_tui.linux`.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from dataclasses import dataclass

from cntr_tui.linux.namespaces import namespace_inode
from cntr_tui.linux.proc_stat import PPID, START_TIME, read_stat, ticks_to_timestamp
from cntr_tui.linux.procfs import ProcessGone, children, command_line, gone, pids


@dataclass(frozen=True)
class ProcessTree:
    """A process and its descendants; `command` is `command_line(pid)`."""

    pid: int
    command: str
    children: tuple[ProcessTree, ...] = ()

    def walk(self) -> Iterator[tuple[int, ProcessTree]]:
        """(depth, node) for this node and every descendant, depth first."""
        stack: list[tuple[int, ProcessTree]] = [(0, self)]
        while stack:
            depth, node = stack.pop()
            yield depth, node
            stack.extend((depth + 1, child) for child in reversed(node.children))


def process_tree(pid: int) -> ProcessTree:
    """`pid` with all its descendants; processes that exit meanwhile are left out."""
    command = command_line(pid)
    nodes: list[ProcessTree] = []
    for child in children(pid):
        with contextlib.suppress(ProcessGone):
            nodes.append(process_tree(child))
    return ProcessTree(pid, command, tuple(nodes))


@dataclass(frozen=True)
class ProcessInfo:
    """What `scan_processes` learns of one process, cheaply: no argv, two namespaces.

    `pid_ns`/`mnt_ns` are namespace inodes (0 when unreadable); use
    `linux.namespaces.namespace_ids` and `linux.procfs.command_line` for the rest, on
    the few processes that matter.
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


def _scanned_inode(pid: int, kind: str) -> int:
    try:
        return namespace_inode(pid, kind)
    except FileNotFoundError:
        raise gone(pid) from None
    except PermissionError:
        return 0


def process_info(pid: int) -> ProcessInfo:
    name, fields = read_stat(pid)
    return ProcessInfo(
        pid=pid,
        ppid=int(fields[PPID]),
        comm=name,
        start_ticks=int(fields[START_TIME]),
        pid_ns=_scanned_inode(pid, "pid"),
        mnt_ns=_scanned_inode(pid, "mnt"),
    )


def scan_processes() -> dict[int, ProcessInfo]:
    """A `ProcessInfo` for every process that lives through the scan (kernel threads too)."""
    table: dict[int, ProcessInfo] = {}
    for pid in pids():
        with contextlib.suppress(ProcessGone, PermissionError):
            table[pid] = process_info(pid)
    return table
