"""Fixtures shared by the unit tests."""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest


@pytest.fixture
def pipe() -> Iterator[tuple[int, int]]:
    """(read end, write end): what a test's code takes for /dev/fuse."""
    read_fd, write_fd = os.pipe2(os.O_CLOEXEC)
    yield read_fd, write_fd
    os.close(read_fd)
    os.close(write_fd)
