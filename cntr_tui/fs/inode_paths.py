"""The file server's path map: FUSE inode numbers <-> host paths.

Inodes are kept as (parent inode, name) pairs, not as open file descriptors: the
server operates on a name relative to its parent directory's O_PATH fd, from a bounded
cache (`directory_fds`), so it holds few fds (the machine's open-file limit is 20,000).
A full path (`path_of`) is only rebuilt to compare with the synthetic directories and
to key directory listings; it is never handed to a syscall (it may be past PATH_MAX).
Inodes are keyed by the host's (st_dev, st_ino) (or a synthetic key), so hard links
and repeated lookups share one node. A node lives while the kernel holds lookups on
it (FORGET gives them back). A retired node (`retire`) keeps its place for the kernel's
open files while the next lookup of its file gets a new inode.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

ROOT_INODE = 1  # FUSE_ROOT_ID (pyfuse3.ROOT_INODE)


@dataclass
class Node:
    """One FUSE inode: where it was last seen, and how often the kernel looked it up."""

    parent: int
    name: bytes
    key: tuple[Any, ...]
    lookups: int = 0


class InodePaths:
    """Which host path each FUSE inode stands for; the root is `/`, keyed `root_key`."""

    def __init__(self, root_key: tuple[Any, ...]) -> None:
        self.nodes: dict[int, Node] = {ROOT_INODE: Node(ROOT_INODE, b"", root_key, 1)}
        self.inode_of: dict[tuple[Any, ...], int] = {root_key: ROOT_INODE}
        self.next_inode = ROOT_INODE + 1

    def path_of(self, inode: int) -> bytes:
        parts: list[bytes] = []
        while inode != ROOT_INODE:
            node = self.nodes[inode]
            parts.append(node.name)
            inode = node.parent
        return b"/" + b"/".join(reversed(parts))

    def child_path(self, parent: int, name: bytes) -> bytes:
        base = self.path_of(parent)
        return base + name if base == b"/" else base + b"/" + name

    def parent_of(self, inode: int) -> int:
        return ROOT_INODE if inode == ROOT_INODE else self.nodes[inode].parent

    def register(self, parent: int, name: bytes, key: tuple[Any, ...]) -> int:
        """The inode of `key`, seen as `name` in `parent` (a new one if unknown)."""
        inode = self.inode_of.get(key)
        if inode is None:
            inode = self.next_inode
            self.next_inode += 1
            self.inode_of[key] = inode
            self.nodes[inode] = Node(parent, name, key)
        elif inode != ROOT_INODE:
            node = self.nodes[inode]
            node.parent, node.name = parent, name
        return inode

    def moved(self, key: tuple[Any, ...], parent: int, name: bytes) -> None:
        """The file of `key`, if it has an inode, is now `name` in `parent` (a rename)."""
        inode = self.inode_of.get(key)
        if inode is not None and inode != ROOT_INODE:
            self.nodes[inode].parent, self.nodes[inode].name = parent, name

    def retire(self, inode: int) -> None:
        """The next `register` of this inode's file makes a new inode; this one lives on
        (for files the kernel has open on it) until the kernel forgets it."""
        key = self.nodes[inode].key
        if self.inode_of.get(key) == inode:
            del self.inode_of[key]

    def looked_up(self, inode: int) -> None:
        self.nodes[inode].lookups += 1

    def forget(self, inode: int, count: int) -> bool:
        """Give back `count` lookups; True if the inode is gone now."""
        node = self.nodes.get(inode)
        if node is None:
            return False
        node.lookups -= count
        return self.drop_if_unused(inode)

    def drop_if_unused(self, inode: int) -> bool:
        node = self.nodes.get(inode)
        if node is not None and node.lookups <= 0 and inode != ROOT_INODE:
            del self.nodes[inode]
            if self.inode_of.get(node.key) == inode:  # not if retired: a newer one has it
                del self.inode_of[node.key]
            return True
        return False
