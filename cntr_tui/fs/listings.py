"""Directory listings the file server keeps between OPENDIRs.

The kernel cannot be told to cache directory listings through pyfuse3 (unless the
request loop tells us each request's inode, see `fastloop`), so a warm `find` would
otherwise list and stat every entry again. A listing is reused while the directory's
mtime and ctime are unchanged and it is younger than the cache timeout.
"""

from __future__ import annotations

import os
from collections import OrderedDict
from dataclasses import dataclass, field

LISTING_CACHE_ENTRIES = 500_000  # names kept over all cached directory listings


@dataclass
class DirectorySnapshot:
    """A directory's names, listed once, and their lstat results, filled in as read."""

    inode: int
    path: bytes
    names: list[bytes]
    version: tuple[int, int]
    taken: float
    stats: list[os.stat_result | None] = field(default_factory=list)


class ListingCache:
    """Snapshots by inode, least recently used first out past LISTING_CACHE_ENTRIES names."""

    def __init__(self, timeout: float) -> None:
        self.timeout = timeout
        self.listings: OrderedDict[int, DirectorySnapshot] = OrderedDict()
        self.listed_names = 0

    def fresh(
        self, inode: int, path: bytes, version: tuple[int, int], now: float
    ) -> DirectorySnapshot | None:
        """The snapshot of `inode` if it is still of `path` at `version` and young enough."""
        cached = self.listings.get(inode)
        if (
            cached is not None
            and cached.path == path
            and cached.version == version
            and now - cached.taken < self.timeout
        ):
            self.listings.move_to_end(inode)
            return cached
        return None

    def remember(self, snapshot: DirectorySnapshot) -> None:
        previous = self.listings.pop(snapshot.inode, None)
        if previous is not None:
            self.listed_names -= len(previous.names)
        self.listings[snapshot.inode] = snapshot
        self.listed_names += len(snapshot.names)
        while self.listed_names > LISTING_CACHE_ENTRIES and len(self.listings) > 1:
            _, evicted = self.listings.popitem(last=False)
            self.listed_names -= len(evicted.names)
